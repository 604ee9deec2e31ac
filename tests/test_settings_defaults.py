"""settings/defaults.py holds mailman-web's own defaults, without importing them."""

import copy
from pathlib import Path

import mailman_web.settings.base
import mailman_web.settings.mailman
import pytest

from crans_mailman_web_settings import defaults

UPSTREAM = {
    name: value
    for module in (mailman_web.settings.base, mailman_web.settings.mailman)
    for name, value in vars(module).items()
    if name.isupper()
}
# Set by crans.py from the base (base.py) or from the folder of mailman-web's
# files, by accounts.py from allauth's version, by production.py from the
# environment; replaced whole by Crans' values (SOCIALACCOUNT_PROVIDERS);
# deprecated (USE_L10N).
NOT_HELD = {
    "BASE_DIR",
    "ROOT_URLCONF",
    "WSGI_APPLICATION",
    "STATIC_URL",
    "STATIC_ROOT",
    "DATABASES",
    "HAYSTACK_CONNECTIONS",
    "ACCOUNT_AUTHENTICATION_METHOD",
    "ACCOUNT_EMAIL_REQUIRED",
    "MAILMAN_REST_API_PASS",
    "MAILMAN_ARCHIVER_KEY",
    "SOCIALACCOUNT_PROVIDERS",
    "USE_L10N",
}
HELD = {name: value for name, value in vars(defaults).items() if name.isupper()}


def test_defaults_import_nothing_of_mailman_web():
    source = Path(defaults.__file__).read_text()
    assert "import mailman_web" not in source and "from mailman_web" not in source


def test_every_held_default_is_one_of_mailman_web():
    assert set(HELD) <= set(UPSTREAM) - NOT_HELD


@pytest.mark.parametrize("name", sorted(set(UPSTREAM) - NOT_HELD))
def test_held_default_equals_mailman_web(name):
    if name == "LOGGING":  # the file handler's path follows BASE_DIR (crans.py)
        upstream = copy.deepcopy(UPSTREAM[name])
        del upstream["handlers"]["file"]["filename"]
        assert HELD[name] == upstream
    else:
        assert HELD[name] == UPSTREAM[name]
