"""django-allauth settings that depend on its version.

The pins allow every django-allauth 65: Debian 13 ships 65.0.2, pip resolves
the newest. 65.4 replaced ACCOUNT_AUTHENTICATION_METHOD by
ACCOUNT_LOGIN_METHODS, 65.5 ACCOUNT_EMAIL_REQUIRED by ACCOUNT_SIGNUP_FIELDS;
each version warns about the old names and ignores the new ones it does not
know (65.0.2 then fails: mandatory e-mail verification without a required
e-mail). Same behaviour on every version: log in by username or e-mail, sign
up with both (username and password typed twice are allauth's defaults
before 65.5).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

LOGIN_METHODS_SINCE = (65, 4)
SIGNUP_FIELDS_SINCE = (65, 5)


def allauth_version() -> tuple[int, int]:
    """Return the (major, minor) version of the installed django-allauth."""
    try:
        import allauth
    except ImportError as error:
        # Not an ImportError: Debian's settings.py would silently ignore it.
        raise ImproperlyConfigured(
            "Crans' settings need django-allauth 65, which cannot be imported: "
            f"{error}. Install it (Debian: python3-django-allauth)."
        ) from error
    major, minor = allauth.__version__.split(".")[:2]
    return int(major), int(minor)


def account_settings(version: tuple[int, int]) -> dict[str, Any]:
    """Return the login and sign-up settings in the names that ``version`` knows."""
    values: dict[str, Any] = {}
    if version >= LOGIN_METHODS_SINCE:
        values["ACCOUNT_LOGIN_METHODS"] = {"username", "email"}
    else:
        values["ACCOUNT_AUTHENTICATION_METHOD"] = "username_email"
    if version >= SIGNUP_FIELDS_SINCE:
        values["ACCOUNT_SIGNUP_FIELDS"] = ["email*", "username*", "password1*", "password2*"]
    else:
        values["ACCOUNT_EMAIL_REQUIRED"] = True
    return values
