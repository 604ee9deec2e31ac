"""System checks: Crans' settings are in effect, whole; `crans_settings` says so."""

import allauth
import pytest
from django.core.management import call_command
from django.utils import translation

from crans_admin import checks


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
    assert (
        "Crans' settings are active (crans_mailman_web_settings.test) on PyPI's mailman-web."
        in output
    )
    assert f"django-allauth {allauth.__version__}" in output


def test_crans_settings_command_in_french(capsys):
    with translation.override("fr"):
        call_command("crans_settings")
    assert "Les réglages du Crans sont actifs" in capsys.readouterr().out
