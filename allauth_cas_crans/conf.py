"""Settings of the "crans" provider: ``SOCIALACCOUNT_PROVIDERS["crans"]`` over ``DEFAULTS``."""

from __future__ import annotations

import functools
from typing import Any, Final, TypedDict

from allauth.socialaccount import app_settings
from django.core.exceptions import ImproperlyConfigured

PROVIDER_ID: Final = "crans"
VERSIONS: Final = (1, 2, 3, "CAS_2_SAML_1_0")


class CransSettings(TypedDict):
    SERVER_URL: str
    VERSION: int | str
    RENEW: bool
    TIMEOUT: float
    ATTRIBUTES: dict[str, list[str]]
    EMAIL_DOMAIN: str | None
    EMAIL_AUTHENTICATION: bool
    LOGOUT_FROM_CAS: bool


DEFAULTS: Final[CransSettings] = {
    # Crans' CAS; python-cas appends "login", "p3/serviceValidate"... to it.
    "SERVER_URL": "https://cas.crans.org/",
    # CAS protocol: 1, 2, 3 or "CAS_2_SAML_1_0" (python-cas' names).
    "VERSION": 3,
    # Ask the CAS to prompt for the password even within a CAS session.
    "RENEW": False,
    # Seconds to wait for the CAS while validating a ticket.
    "TIMEOUT": 10,
    # For each user field, the CAS attributes that may hold it, first found wins.
    "ATTRIBUTES": {
        "username": ["uid", "username"],
        "email": ["mail", "email"],
        "first_name": ["givenName", "first_name"],
        "last_name": ["sn", "last_name"],
        "name": ["cn", "displayName"],
    },
    # When the CAS releases no e-mail, use <uid>@EMAIL_DOMAIN, unverified
    # (allauth's "VERIFIED_EMAIL": ["crans.org"] trusts it). None: no e-mail.
    "EMAIL_DOMAIN": "crans.org",
    # A verified e-mail from the CAS logs into the local account that has it
    # (allauth's per-provider EMAIL_AUTHENTICATION).
    "EMAIL_AUTHENTICATION": True,
    # The provider's logout view also ends the CAS session.
    "LOGOUT_FROM_CAS": False,
}


@functools.cache
def crans_settings() -> CransSettings:
    """Return ``DEFAULTS`` updated with the site's settings (cached, validated)."""
    configured: dict[str, Any] = app_settings.PROVIDERS.get(PROVIDER_ID, {})
    merged: dict[str, Any] = {**DEFAULTS, **configured}
    merged["ATTRIBUTES"] = {**DEFAULTS["ATTRIBUTES"], **configured.get("ATTRIBUTES", {})}
    if merged["VERSION"] not in VERSIONS:
        raise ImproperlyConfigured(
            f'SOCIALACCOUNT_PROVIDERS["crans"]["VERSION"] is {merged["VERSION"]!r}; '
            f"use one of {', '.join(map(repr, VERSIONS))}."
        )
    if not isinstance(merged["TIMEOUT"], int | float) or merged["TIMEOUT"] <= 0:
        raise ImproperlyConfigured(
            f'SOCIALACCOUNT_PROVIDERS["crans"]["TIMEOUT"] is {merged["TIMEOUT"]!r}; '
            "use a number of seconds."
        )
    # python-cas joins "login" etc. to SERVER_URL: without the final slash,
    # https://cas.example.org/cas would lose its last component.
    if not merged["SERVER_URL"].endswith("/"):
        merged["SERVER_URL"] += "/"
    return merged  # type: ignore[return-value]


def clear_cache(*, setting: str, **kwargs: Any) -> None:
    """Forget the settings when a test changes them (``setting_changed`` receiver)."""
    if setting == "SOCIALACCOUNT_PROVIDERS":
        crans_settings.cache_clear()
