"""django-mailman3's test settings, the theme first."""

from django_mailman3.tests.settings_test import *  # noqa: F403

from tests.upstream import PASSWORD_HASHERS, theme_first  # noqa: F401

INSTALLED_APPS = theme_first(INSTALLED_APPS)  # noqa: F405
