"""The settings find their platform and choose allauth's setting names."""

import importlib.util
import os
import sys
import types
from pathlib import Path

import allauth
import pytest
from allauth.account import app_settings
from django.core.exceptions import ImproperlyConfigured

from crans_mailman_web_settings import allauth_compat, platforms
from crans_mailman_web_settings.allauth_compat import account_settings, allauth_version
from crans_mailman_web_settings.platforms import DEBIAN, MAILMAN_WEB, detect_base

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
    monkeypatch.setattr(platforms, "DEBIAN_PROJECT_DIR", tmp_path)
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
    if allauth_version() >= allauth_compat.LOGIN_METHODS_SINCE:
        assert app_settings.LOGIN_METHODS == {"username", "email"}
    else:
        assert app_settings.AUTHENTICATION_METHOD == "username_email"
    if allauth_version() >= allauth_compat.SIGNUP_FIELDS_SINCE:
        fields = app_settings.SIGNUP_FIELDS
        assert fields["email"]["required"] and fields["username"]["required"]
        assert "password2" in fields
    else:
        assert app_settings.EMAIL_REQUIRED is True
        assert app_settings.USERNAME_REQUIRED is True
        assert app_settings.SIGNUP_PASSWORD_ENTER_TWICE is True


def test_allauth_version_is_the_installed_one():
    assert ".".join(map(str, allauth_version())) == ".".join(allauth.__version__.split(".")[:2])


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


def test_no_module_of_the_bundle_is_imported_under_two_names():
    """settings/ is ``crans_mailman_web_settings`` only: never also the top-level ``settings``."""
    files: dict[str, list[str]] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        path = Path(path).resolve() if path else None
        if path and path.is_relative_to(REPO) and not path.relative_to(REPO).parts[0][0] == ".":
            files.setdefault(str(path), []).append(name)
    assert files, "no module of the repository is imported"
    assert {path: names for path, names in files.items() if len(names) > 1} == {}
    assert "crans_mailman_web_settings.test" in sys.modules
