"""Checks of the configuration: Crans' settings in effect, and deployment settings."""

from __future__ import annotations

import os

from django.conf import settings
from django.core import checks as system_checks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allauth_cas_crans.conf import PROVIDER_ID

from ..checks import check_crans_settings
from .registry import Finding, check, error, ok, warning


@check("settings", gettext_lazy("Crans' settings are the ones running"))
def check_settings(timeout: float) -> Finding:
    """What the system checks ``crans.E001``... report: Crans' settings, theme, apps, provider."""
    module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE")
    messages = [message for message in check_crans_settings() if not message.is_silenced()]
    if messages:
        hints = dict.fromkeys(message.hint for message in messages if message.hint)
        return error(
            _("Settings %(module)s: Crans' system checks report %(ids)s.")
            % {"module": module, "ids": ", ".join(message.id for message in messages)},
            " ".join([*hints, _("Then restart mailman-web.")]),
            [f"{message.id}: {message.msg}" for message in messages],
        )
    return ok(
        _(
            "Settings %(module)s: Crans' system checks find nothing: the theme is the first "
            "app, the CAS provider %(provider)r and crans_admin are installed."
        )
        % {"module": module, "provider": PROVIDER_ID}
    )


@check("deploy", gettext_lazy("Deployment settings (DEBUG, check --deploy)"), timeout=30.0)
def check_deploy(timeout: float) -> Finding:
    """DEBUG off, and what ``mailman-web check --deploy`` reports (silenced checks left out)."""
    messages = [
        message
        for message in system_checks.run_checks(include_deployment_checks=True)
        if not message.is_silenced()
    ]
    errors = sorted({message.id or "?" for message in messages if message.is_serious()})
    warnings = sorted(
        {
            message.id or "?"
            for message in messages
            if not message.is_serious() and message.level >= system_checks.WARNING
        }
    )
    seen = _(
        "DEBUG is %(debug)s; check --deploy: %(errors)d error(s), %(warnings)d warning(s)."
    ) % {
        "debug": _("on") if settings.DEBUG else _("off"),
        "errors": len(errors),
        "warnings": len(warnings),
    }
    details = [*errors, *warnings]
    if settings.DEBUG:
        return error(
            seen,
            _(
                "Set DEBUG = False in the settings and restart mailman-web: with DEBUG on, "
                "error pages show the settings and the code to anyone."
            ),
            details,
        )
    fix = _(
        "Run mailman-web check --deploy and correct what it reports, or list the accepted "
        "warnings in SILENCED_SYSTEM_CHECKS."
    )
    if errors:
        return error(seen, fix, details)
    if warnings:
        return warning(seen, fix, details)
    return ok(seen)
