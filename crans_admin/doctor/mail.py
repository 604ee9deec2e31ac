"""Check of outgoing mail: mailman-web's SMTP server accepts a connection."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .network import network_error, network_timeout
from .registry import Finding, check, error, ok, warning


@check("smtp", gettext_lazy("Outgoing mail (SMTP server)"))
def check_smtp(timeout: float) -> Finding:
    backend = settings.EMAIL_BACKEND
    if backend != "django.core.mail.backends.smtp.EmailBackend":
        return warning(
            _("EMAIL_BACKEND is %(backend)s: mailman-web sends no mail.") % {"backend": backend},
            _("Set EMAIL_BACKEND to django.core.mail.backends.smtp.EmailBackend."),
        )
    host, port = settings.EMAIL_HOST, settings.EMAIL_PORT
    smtp_class = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
    try:
        with smtp_class(host, port, timeout=network_timeout(timeout)) as server:
            if settings.EMAIL_USE_TLS:
                server.starttls()
            code, answer = server.noop()
    except (OSError, smtplib.SMTPException) as exception:
        return error(
            _("The SMTP server %(host)s:%(port)s does not accept a connection: %(error)s")
            % {"host": host, "port": port, "error": network_error(exception)},
            _(
                "Start the mail server (e.g. systemctl start postfix), or correct EMAIL_HOST "
                "and EMAIL_PORT."
            ),
        )
    if code != 250:
        return error(
            _("The SMTP server %(host)s:%(port)s answered %(code)d %(answer)s.")
            % {"host": host, "port": port, "code": code, "answer": answer.decode(errors="replace")},
            _("Read the mail server's log for the cause, and correct it."),
        )
    return ok(
        _("The SMTP server %(host)s:%(port)s accepts connections.") % {"host": host, "port": port}
    )
