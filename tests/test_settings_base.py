"""The settings find their base, choose allauth's setting names and check themselves."""

import importlib.util
import os
import sys
import types
from pathlib import Path

import allauth
import pytest
from allauth.account import app_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import translation

from settings import accounts, base, checks
from settings.accounts import account_settings, allauth_version
from settings.base import DEBIAN, MAILMAN_WEB, detect_base

REPO = Path(__file__).resolve().parent.parent


def test_pypi_mailman_web_is_the_base_here():
    assert detect_base() == MAILMAN_WEB


def test_debian_is_the_base_when_its_settings_import_them(monkeypatch):
    debian_settings = types.ModuleType("settings")
    debian_settings.__file__ = "/usr/share/mailman3-web/settings.py"
    monkeypatch.setitem(sys.modules, "settings", debian_settings)
    assert detect_base() == DEBIAN


def test_no_base_stops_loudly_and_not_with_an_import_error(monkeypatch, tmp_path):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "mailman_web" else find_spec(name)
    )
    monkeypatch.setattr(base, "DEBIAN_PROJECT_DIR", tmp_path)
    with pytest.raises(ImproperlyConfigured, match="neither PyPI's mailman-web") as error:
        detect_base()
    assert not isinstance(error.value, ImportError)  # Debian's settings.py would ignore it


def test_missing_allauth_stops_loudly_and_not_with_an_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "allauth", None)  # import allauth raises ImportError
    with pytest.raises(ImproperlyConfigured, match="python3-django-allauth") as error:
        allauth_version()
    assert not isinstance(error.value, ImportError)


@pytest.mark.parametrize(
    ("version", "names"),
    [
        ((65, 0), {"ACCOUNT_AUTHENTICATION_METHOD", "ACCOUNT_EMAIL_REQUIRED"}),
        ((65, 3), {"ACCOUNT_AUTHENTICATION_METHOD", "ACCOUNT_EMAIL_REQUIRED"}),
        ((65, 4), {"ACCOUNT_LOGIN_METHODS", "ACCOUNT_EMAIL_REQUIRED"}),
        ((65, 5), {"ACCOUNT_LOGIN_METHODS", "ACCOUNT_SIGNUP_FIELDS"}),
        ((65, 22), {"ACCOUNT_LOGIN_METHODS", "ACCOUNT_SIGNUP_FIELDS"}),
    ],
)
def test_account_settings_use_the_names_each_allauth_knows(version, names):
    assert set(account_settings(version)) == names


def test_installed_allauth_logs_in_by_username_or_email_and_requires_an_email():
    """On every leg of CI (65.0.2 and the newest), allauth reads the same behaviour."""
    if allauth_version() >= accounts.LOGIN_METHODS_SINCE:
        assert app_settings.LOGIN_METHODS == {"username", "email"}
    else:
        assert app_settings.AUTHENTICATION_METHOD == "username_email"
    if allauth_version() >= accounts.SIGNUP_FIELDS_SINCE:
        fields = app_settings.SIGNUP_FIELDS
        assert fields["email"]["required"] and fields["username"]["required"]
        assert "password2" in fields
    else:
        assert app_settings.EMAIL_REQUIRED is True
        assert app_settings.USERNAME_REQUIRED is True
        assert app_settings.SIGNUP_PASSWORD_ENTER_TWICE is True


def test_allauth_version_is_the_installed_one():
    assert ".".join(map(str, allauth_version())) == ".".join(allauth.__version__.split(".")[:2])


def test_crans_settings_pass_their_own_checks():
    assert checks.check_crans_settings() == []


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_settings_that_did_not_import_crans_settings_are_an_error():
    assert ids(checks.check_settings_module(imported=False)) == ["crans.E001"]


def test_theme_not_first_is_an_error():
    apps = ["hyperkitty", *checks.REQUIRED_APPS]
    assert ids(checks.check_installed_apps(apps)) == ["crans.E002"]


def test_a_missing_crans_app_is_an_error():
    apps = [app for app in checks.REQUIRED_APPS if app != "allauth_cas_crans"]
    errors = checks.check_installed_apps(apps)
    assert ids(errors) == ["crans.E003"]
    assert "allauth_cas_crans" in errors[0].msg


def test_no_crans_provider_is_an_error():
    assert ids(checks.check_providers({"google": {}})) == ["crans.E004"]


def test_a_setting_the_installed_allauth_ignores_is_an_error():
    errors = checks.check_account_setting_names((65, 0), {"ACCOUNT_SIGNUP_FIELDS"})
    assert ids(errors) == ["crans.E005"]
    assert checks.check_account_setting_names((65, 5), {"ACCOUNT_SIGNUP_FIELDS"}) == []


def test_pins_are_read_from_the_bundle_metadata():
    assert sorted(checks.pins()["hyperkitty"]) == [("<", "1.4"), (">=", "1.3")]


@pytest.mark.parametrize(("installed", "allowed"), [("1.3.12", True), ("1.2.9", False)])
def test_an_app_outside_the_pins_is_an_error(installed, allowed):
    errors = checks.check_pinned_versions(
        lambda name: installed if name == "hyperkitty" else checks.installed_version(name)
    )
    assert ids(errors) == ([] if allowed else ["crans.E006"])


def test_crans_settings_command_says_they_are_active(capsys):
    call_command("crans_settings")
    output = capsys.readouterr().out
    assert "Crans' settings are active (settings.test) on PyPI's mailman-web." in output
    assert f"django-allauth {allauth.__version__}" in output


def test_crans_settings_command_in_french(capsys):
    with translation.override("fr"):
        call_command("crans_settings")
    assert "Les réglages du Crans sont actifs" in capsys.readouterr().out


def test_the_suite_keeps_its_files_out_of_the_demo_folder(settings):
    """Secrets, logs, static files and the search index: not in the demo's var/."""
    demo = (REPO / "var").resolve()
    for path in (
        settings.STATIC_ROOT,
        settings.LOGGING["handlers"]["file"]["filename"],
        settings.HAYSTACK_CONNECTIONS["default"]["PATH"],
        os.environ["MAILMAN_WEB_LOCAL_DIR"],
    ):
        assert not Path(path).resolve().is_relative_to(demo), path
