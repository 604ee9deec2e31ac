"""What the tests expect of the installed django-allauth: 65.0.2 (Debian 13's) to the newest."""

from crans_mailman_web_settings.allauth_compat import allauth_version

# django-allauth's "Third-Party Login Failure" page answers 401 since 65.14, 200 before.
AUTH_ERROR_STATUS = 401 if allauth_version() >= (65, 14) else 200
