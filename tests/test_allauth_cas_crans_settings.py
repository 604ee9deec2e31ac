"""Settings, system checks and catalogue of the "crans" provider."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from allauth.socialaccount.adapter import get_adapter
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from allauth_cas_crans.checks import check_settings
from allauth_cas_crans.conf import DEFAULTS, crans_settings
from allauth_cas_crans.provider import CransProvider
from crans_mailman_web_settings import crans

APP = Path(__file__).resolve().parent.parent / "allauth_cas_crans"


def check_ids() -> list[str]:
    return [message.id for message in check_settings()]


def test_defaults_are_crans_values(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {}}

    assert crans_settings() == DEFAULTS
    assert DEFAULTS["SERVER_URL"] == "https://cas.crans.org/"
    assert DEFAULTS["VERSION"] == 3
    assert DEFAULTS["EMAIL_DOMAIN"] == "crans.org"
    assert DEFAULTS["VERIFIED_EMAIL"] == ["crans.org"]
    assert DEFAULTS["CONNECT_BY_EMAIL"] is True
    assert DEFAULTS["MAX_ANSWER_SIZE"] == 1024 * 1024
    assert DEFAULTS["LOGOUT_REQUEST_ADDRESSES"] is None
    # allauth's own e-mail authentication stays off for the provider.
    assert "EMAIL_AUTHENTICATION" not in DEFAULTS


@pytest.mark.parametrize(
    ("email", "verified"),
    [
        ("ynerant@crans.org", True),
        ("YNERANT@CRANS.ORG", True),
        ("ynerant@lists.crans.org", False),
        ("ynerant@crans.org.evil.example", False),
        ("ynerant@example.org", False),
    ],
)
def test_only_addresses_of_the_trusted_domains_count_as_verified(settings, email, verified):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {}}
    provider = CransProvider(request=None)

    assert provider.is_trusted(email) is verified
    # allauth, which reads VERIFIED_EMAIL too, agrees.
    assert get_adapter().is_email_verified(provider, email) is verified


def test_site_settings_override_the_defaults(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": {
            "SERVER_URL": "https://cas.example.org/cas",
            "VERSION": "CAS_2_SAML_1_0",
            "ATTRIBUTES": {"email": ["mailAlias"]},
            "VERIFIED_EMAIL": ["crans.org"],
        }
    }

    configured = CransProvider(request=None).get_settings()

    assert configured["SERVER_URL"] == "https://cas.example.org/cas/"
    assert configured["VERSION"] == "CAS_2_SAML_1_0"
    assert configured["ATTRIBUTES"] == {**DEFAULTS["ATTRIBUTES"], "email": ["mailAlias"]}
    # Keys allauth itself reads from the provider settings are kept.
    assert configured["VERIFIED_EMAIL"] == ["crans.org"]
    assert configured["TIMEOUT"] == DEFAULTS["TIMEOUT"]


def test_changed_settings_are_read_again(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {"TIMEOUT": 3}}
    assert crans_settings()["TIMEOUT"] == 3

    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {"TIMEOUT": 4}}
    assert crans_settings()["TIMEOUT"] == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VERSION", 4),
        ("VERSION", "3.0"),
        ("TIMEOUT", 0),
        ("TIMEOUT", "10"),
        ("MAX_ANSWER_SIZE", 0),
        ("MAX_ANSWER_SIZE", True),
        ("VERIFIED_EMAIL", True),
        ("VERIFIED_EMAIL", "crans.org"),
        ("LOGOUT_REQUEST_ADDRESSES", ["cas.crans.org"]),
        ("LOGOUT_REQUEST_ADDRESSES", "10.0.0.1"),
        ("EMAIL_AUTHENTICATION", True),
        ("EMAIL_AUTHENTICATION_AUTO_CONNECT", True),
    ],
)
def test_invalid_setting_is_an_error_naming_it(settings, name, value):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {name: value}}

    with pytest.raises(ImproperlyConfigured, match=rf'\["{name}"\] is {re.escape(repr(value))}'):
        crans_settings()
    assert check_ids() == ["allauth_cas_crans.E001"]


def test_allauth_email_authentication_is_refused(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {}}
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION = True

    with pytest.raises(ImproperlyConfigured, match="SOCIALACCOUNT_EMAIL_AUTHENTICATION is on"):
        crans_settings()
    assert check_ids() == ["allauth_cas_crans.E001"]


def test_logout_request_addresses_are_networks(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": {"LOGOUT_REQUEST_ADDRESSES": ["10.231.136.4", "2a0c:700:2::/48"]}
    }

    assert crans_settings()["LOGOUT_REQUEST_ADDRESSES"] == ["10.231.136.4/32", "2a0c:700:2::/48"]


def test_broken_allauth_cas_in_installed_apps_warns(monkeypatch):
    # Set without override_settings: that would import the app, which fails.
    monkeypatch.setattr(
        django_settings, "INSTALLED_APPS", [*django_settings.INSTALLED_APPS, "allauth_cas"]
    )

    assert "allauth_cas_crans.W001" in check_ids()


def test_crans_production_settings_pass_the_checks(settings):
    settings.DEBUG = False
    settings.SOCIALACCOUNT_PROVIDERS = crans.SOCIALACCOUNT_PROVIDERS

    assert "allauth_cas" not in crans.INSTALLED_APPS
    assert check_ids() == []


@pytest.mark.parametrize(
    ("debug", "server_url", "warned"),
    [
        (False, "http://cas.crans.org/", True),
        (False, "https://cas.crans.org/", False),
        (True, "http://127.0.0.1:8002/cas/", False),
    ],
)
def test_cas_in_clear_in_production_warns(settings, debug, server_url, warned):
    settings.DEBUG = debug
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {"SERVER_URL": server_url}}

    assert ("allauth_cas_crans.W002" in check_ids()) is warned
    # Registered with Django's checks by the app.
    assert ("allauth_cas_crans.W002" in [m.id for m in run_checks()]) is warned


def test_every_string_has_a_french_translation(tmp_path, monkeypatch):
    sources = tmp_path / "allauth_cas_crans"
    shutil.copytree(APP, sources, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (sources / "locale").mkdir()
    monkeypatch.chdir(sources)
    call_command("makemessages", locale=["fr"], verbosity=0)
    extracted = sources / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    assert extracted.read_text().count("msgid") > 5

    compared = subprocess.run(
        ["msgcmp", "--no-fuzzy-matching", str(APP / "locale/fr/LC_MESSAGES/django.po"), extracted],
        capture_output=True,
        text=True,
    )

    assert compared.returncode == 0, compared.stderr
