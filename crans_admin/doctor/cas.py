"""Check of the CAS server: it shows its login page and refuses a ticket it never issued."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.contrib.sites.models import Site
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allauth_cas_crans.conf import PROVIDER_ID, crans_settings

from .network import network_error, network_timeout
from .registry import Finding, check, error, ok

# Where the CAS server's address and protocol are set.
SETTING = f"SOCIALACCOUNT_PROVIDERS[{PROVIDER_ID!r}]"


@check("cas", gettext_lazy("The CAS server"))
def check_cas(timeout: float) -> Finding:
    from allauth_cas_crans.client import CasError, MalformedAnswer, TicketRejected, validate_ticket

    cas = dict(crans_settings())
    cas["TIMEOUT"] = min(cas["TIMEOUT"], network_timeout(timeout) / 2)
    server = cas["SERVER_URL"]
    site = Site.objects.filter(pk=settings.SITE_ID).first()
    domain = site.domain if site else "localhost"
    callback = reverse(f"{PROVIDER_ID}_callback")
    service = f"{settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL}://{domain}{callback}"
    fix_url = _(
        "Start the CAS server, or correct %(setting)s['SERVER_URL'] and restart mailman-web."
    ) % {"setting": SETTING}
    parts = urlsplit(server)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        return error(
            _(
                "The CAS server %(url)s is not reached over https: passwords and tickets "
                "travel in clear."
            )
            % {"url": server},
            _("Give %(setting)s['SERVER_URL'] an https:// address.") % {"setting": SETTING},
        )
    login = urljoin(server, "login")
    try:
        page = requests.get(login, params={"service": service}, timeout=cas["TIMEOUT"])
    except requests.RequestException as exception:
        return error(
            _("The CAS server does not answer at %(url)s: %(error)s")
            % {"url": login, "error": network_error(exception)},
            fix_url,
        )
    if page.status_code != 200 or "html" not in page.headers.get("Content-Type", ""):
        return error(
            _("The CAS login page %(url)s answered HTTP %(status)d (%(type)s), not a page.")
            % {
                "url": login,
                "status": page.status_code,
                "type": page.headers.get("Content-Type", "?"),
            },
            fix_url,
        )
    try:
        validate_ticket(cas, "ST-crans-doctor-not-a-ticket", service)
    except TicketRejected:
        pass  # the answer of a CAS server to a ticket it did not issue
    except MalformedAnswer as exception:
        return error(
            _("The CAS validation endpoint does not answer as CAS does: %(error)s")
            % {"error": exception},
            _("Correct SERVER_URL or VERSION of %(setting)s.") % {"setting": SETTING},
        )
    except CasError as exception:
        return error(
            _("The CAS validation endpoint does not answer: %(error)s")
            % {"error": network_error(exception)},
            fix_url,
        )
    else:
        return error(
            _("The CAS server accepted a ticket it never issued."),
            _("Correct %(setting)s['SERVER_URL']: it is not a CAS server.") % {"setting": SETTING},
        )
    return ok(
        _(
            "The CAS server %(url)s shows its login page and refuses an unknown ticket "
            "(CAS protocol %(version)s)."
        )
        % {"url": server, "version": cas["VERSION"]}
    )
