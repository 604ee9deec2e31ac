"""Settings of the "crans" provider: ``SOCIALACCOUNT_PROVIDERS["crans"]`` over ``DEFAULTS``."""

from __future__ import annotations

import functools
import ipaddress
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
    MAX_ANSWER_SIZE: int
    ATTRIBUTES: dict[str, list[str]]
    EMAIL_DOMAIN: str | None
    VERIFIED_EMAIL: list[str]
    CONNECT_BY_EMAIL: bool
    LOGOUT_FROM_CAS: bool
    LOGOUT_REQUEST_ADDRESSES: list[str] | None


DEFAULTS: Final[CransSettings] = {
    # Crans' CAS; python-cas appends "login", "p3/serviceValidate"... to it.
    "SERVER_URL": "https://cas.crans.org/",
    # CAS protocol: 1, 2, 3 or "CAS_2_SAML_1_0" (python-cas' names).
    "VERSION": 3,
    # Ask the CAS to prompt for the password even within a CAS session.
    "RENEW": False,
    # Seconds the whole validation of a ticket may take (connecting, sending,
    # reading the whole answer): a slower CAS is the provider's error page.
    "TIMEOUT": 10,
    # Bytes of the CAS answer read at most: a longer answer is refused.
    "MAX_ANSWER_SIZE": 1024 * 1024,
    # For each user field, the CAS attributes that may hold it, first found wins.
    "ATTRIBUTES": {
        "username": ["uid", "username"],
        "email": ["mail", "email"],
        "first_name": ["givenName", "first_name"],
        "last_name": ["sn", "last_name"],
        "name": ["cn", "displayName"],
    },
    # When the CAS releases no e-mail, use <uid>@EMAIL_DOMAIN. None: no e-mail.
    "EMAIL_DOMAIN": "crans.org",
    # Domains whose CAS addresses count as verified (exact domains, no
    # subdomains): Crans delivers <uid>@crans.org to the member <uid>. Any
    # other address gets allauth's verification mail. allauth reads this key
    # too (as a list of domains); True is refused: it would trust every
    # address a CAS account claims.
    "VERIFIED_EMAIL": ["crans.org"],
    # A first CAS login connects to the existing account that verified the
    # member's (verified) CAS address, unless that account has staff or
    # superuser status, is deactivated or is connected to another CAS account.
    "CONNECT_BY_EMAIL": True,
    # The provider's logout view also ends the CAS session.
    "LOGOUT_FROM_CAS": False,
    # Addresses (or networks) allowed to POST single-logout requests. None:
    # the addresses SERVER_URL's host resolves to; []: no single logout.
    "LOGOUT_REQUEST_ADDRESSES": None,
}

# allauth's own e-mail authentication matches unverified local addresses too.
UNSAFE_KEYS: Final = ("EMAIL_AUTHENTICATION", "EMAIL_AUTHENTICATION_AUTO_CONNECT")


def _invalid(name: str, value: Any, hint: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f'SOCIALACCOUNT_PROVIDERS["crans"]["{name}"] is {value!r}; {hint}')


@functools.cache
def crans_settings() -> CransSettings:
    """Return ``DEFAULTS`` updated with the site's settings (cached, validated)."""
    configured: dict[str, Any] = app_settings.PROVIDERS.get(PROVIDER_ID, {})
    for key in UNSAFE_KEYS:
        if key in configured:
            raise _invalid(
                key,
                configured[key],
                "remove it: allauth would connect a CAS login to an account holding the "
                "address unverified. Use CONNECT_BY_EMAIL.",
            )
    if getattr(app_settings, "EMAIL_AUTHENTICATION", False):
        raise ImproperlyConfigured(
            "SOCIALACCOUNT_EMAIL_AUTHENTICATION is on: allauth would log a CAS login into "
            'any account holding the address, even unverified. Remove it; the "crans" '
            "provider connects accounts itself (CONNECT_BY_EMAIL)."
        )
    merged: dict[str, Any] = {**DEFAULTS, **configured}
    merged["ATTRIBUTES"] = {**DEFAULTS["ATTRIBUTES"], **configured.get("ATTRIBUTES", {})}
    if merged["VERSION"] not in VERSIONS:
        raise _invalid(
            "VERSION", merged["VERSION"], f"use one of {', '.join(map(repr, VERSIONS))}."
        )
    for name, kind in (("TIMEOUT", "seconds"), ("MAX_ANSWER_SIZE", "bytes")):
        value = merged[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise _invalid(name, value, f"use a number of {kind}.")
    domains = merged["VERIFIED_EMAIL"]
    if not isinstance(domains, list | tuple) or not all(isinstance(d, str) for d in domains):
        raise _invalid("VERIFIED_EMAIL", domains, 'use a list of domains, e.g. ["crans.org"].')
    merged["VERIFIED_EMAIL"] = [domain.strip().lower() for domain in domains]
    merged["LOGOUT_REQUEST_ADDRESSES"] = _networks(merged["LOGOUT_REQUEST_ADDRESSES"])
    # python-cas joins "login" etc. to SERVER_URL: without the final slash,
    # https://cas.example.org/cas would lose its last component.
    if not merged["SERVER_URL"].endswith("/"):
        merged["SERVER_URL"] += "/"
    return merged  # type: ignore[return-value]


def _networks(addresses: Any) -> list[str] | None:
    """Check ``LOGOUT_REQUEST_ADDRESSES``: None, or a list of addresses or networks."""
    if addresses is None:
        return None
    hint = 'use None or a list of addresses or networks, e.g. ["10.231.136.0/24"].'
    if not isinstance(addresses, list | tuple):
        raise _invalid("LOGOUT_REQUEST_ADDRESSES", addresses, hint)
    try:
        return [str(ipaddress.ip_network(address, strict=False)) for address in addresses]
    except (TypeError, ValueError) as error:
        raise _invalid("LOGOUT_REQUEST_ADDRESSES", addresses, hint) from error


def clear_cache(*, setting: str, **kwargs: Any) -> None:
    """Forget the settings when a test changes them (``setting_changed`` receiver)."""
    if setting in ("SOCIALACCOUNT_PROVIDERS", "SOCIALACCOUNT_EMAIL_AUTHENTICATION"):
        crans_settings.cache_clear()
