"""System checks of the "crans" provider."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning
from django.core.exceptions import ImproperlyConfigured

from .conf import crans_settings


def check_settings(**kwargs: Any) -> list[Error | Warning]:
    """Warn about the broken django-allauth-cas and a CAS reached in clear in production."""
    messages: list[Error | Warning] = []
    if "allauth_cas" in settings.INSTALLED_APPS:
        messages.append(
            Warning(
                '"allauth_cas" (django-allauth-cas) is in INSTALLED_APPS.',
                hint="It cannot load with Django 4 and django-allauth 65, and the "
                '"crans" provider does not need it: remove it.',
                id="allauth_cas_crans.W001",
            )
        )
    try:
        server_url = crans_settings()["SERVER_URL"]
    except ImproperlyConfigured as error:
        return [*messages, Error(str(error), id="allauth_cas_crans.E001")]
    if not settings.DEBUG and urlsplit(server_url).scheme != "https":
        messages.append(
            Warning(
                f'SOCIALACCOUNT_PROVIDERS["crans"]["SERVER_URL"] is {server_url!r}, not https.',
                hint="Tickets and members' attributes would travel in clear: use the "
                "CAS server's https URL.",
                id="allauth_cas_crans.W002",
            )
        )
    return messages


def check_session_engine(**kwargs: Any) -> list[Warning]:
    """Warn when single logout cannot end a session, or cannot follow one whose key changed."""
    from .single_logout import session_model

    try:
        if crans_settings()["LOGOUT_REQUEST_ADDRESSES"] == []:
            return []  # no single logout at all
    except ImproperlyConfigured:
        return []  # check_settings reports it
    engine = settings.SESSION_ENGINE
    if engine == "django.contrib.sessions.backends.signed_cookies":
        return [
            Warning(
                f"SESSION_ENGINE is {engine!r}: the CAS's single-logout requests cannot "
                "end any session (each lives in the member's cookie).",
                hint='Use "django.contrib.sessions.backends.db" (Django\'s default) or '
                '"django.contrib.sessions.backends.cached_db".',
                id="allauth_cas_crans.W004",
            )
        ]
    if session_model() is None:
        return [
            Warning(
                f"SESSION_ENGINE is {engine!r}, which keeps no session in a model: the "
                "CAS's single-logout requests miss every session whose key changed since "
                "its CAS login (at login, when a password is set or changed).",
                hint='Use "django.contrib.sessions.backends.db" (Django\'s default) or '
                '"django.contrib.sessions.backends.cached_db".',
                id="allauth_cas_crans.W003",
            )
        ]
    return []
