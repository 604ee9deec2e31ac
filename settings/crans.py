"""Crans' ``/etc/mailman3/mailman-web.py``, without its secrets and its database.

Every value of Crans' file is here, on top of mailman-web's defaults
(``defaults.py``) and of the few values that depend on the installed
mailman-web, Debian's mailman3-web or PyPI's mailman-web (``platforms.py``).
Where this module differs from Crans' file on purpose, a comment says why.
``production`` adds the secrets and the database from the environment,
``local`` the embedded default for a new user.
"""

import copy
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .allauth_compat import account_settings, allauth_version
from .defaults import *  # noqa: F403
from .environment import setting
from .platforms import (
    detect_base,
    forget_deprecated_debian_settings,
    log_file,
    writable_log_file,
)

_base = detect_base()
# Which mailman-web runs the settings: what `mailman-web crans_settings` reports,
# and the mark that the system checks look for.
CRANS_SETTINGS_BASE = _base.name
ROOT_URLCONF = _base.root_urlconf
WSGI_APPLICATION = _base.wsgi_application
STATIC_URL = _base.static_url
forget_deprecated_debian_settings()

# Where mailman-web keeps its files (Debian: /var/lib/mailman3/web, PyPI's
# mailman-web: /opt/mailman/web). Everything below that lives on disk follows it.
BASE_DIR = Path(setting("MAILMAN_WEB_BASE_DIR", _base.base_dir))
STATIC_ROOT = str(BASE_DIR / "static")
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "mailman-web.db")}
}
LOGGING = copy.deepcopy(LOGGING)  # noqa: F405 (the defaults stay as they are)
# Debian's logs go where its logrotate configuration expects them, even with
# MAILMAN_WEB_BASE_DIR set; a missing folder is created, or named in an error.
LOGGING["handlers"]["file"]["filename"] = writable_log_file(log_file(_base, BASE_DIR))  # noqa: F405
# Who changed what through crans_admin's commands (the admin also keeps a LogEntry).
LOGGING["loggers"]["crans_admin"] = {"handlers": ["file"], "level": "INFO"}  # noqa: F405
# CAS logins that fail (and why) and the CAS server's single logouts.
LOGGING["loggers"]["allauth_cas_crans"] = {"handlers": ["file"], "level": "INFO"}  # noqa: F405
# mailman-web's default is the relative path "fulltext_index": an index that
# moves with the working directory of whoever runs a command.
# Not in Crans' file: MAILMAN_WEB_SEARCH_ENGINE=xapian indexes with Xapian
# (Debian's python3-xapian-haystack), some 5 times faster than Whoosh, in a
# folder of its own: run `mailman-web update_index` once after switching.
search_engines = {
    "whoosh": ("haystack.backends.whoosh_backend.WhooshEngine", "fulltext_index"),
    "xapian": ("xapian_backend.XapianEngine", "xapian_index"),
}
search_engine = setting("MAILMAN_WEB_SEARCH_ENGINE", "whoosh")
if search_engine not in search_engines:
    raise ImproperlyConfigured(
        f"MAILMAN_WEB_SEARCH_ENGINE is {search_engine!r}: give one of {', '.join(search_engines)}."
    )
HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": search_engines[search_engine][0],
        "PATH": str(BASE_DIR / search_engines[search_engine][1]),
    },
}

ADMINS = (("Mailman Suite Admin", "root@crans.org"),)
# Not in Crans' file: the error reports mailed to ADMINS hide database URLs too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "crans_admin.error_reports.CransExceptionReporterFilter"

ALLOWED_HOSTS = [
    "localhost",  # Archiving API from Mailman, keep it.
    "mailman.crans.org",
    "lists.crans.org",
]

# Mailman API credentials (the password and the archiver key are secrets:
# see production.py).
MAILMAN_REST_API_URL = "http://localhost:8001"
MAILMAN_REST_API_USER = "restadmin"
MAILMAN_ARCHIVER_FROM = ("127.0.0.1", "::1")

# Crans' apps are mailman-web's, the theme first, and Django's admin followed by
# its documentation pages; in place of "django.contrib.admin", Django's admin with
# the bundle's admin site (its privilege rules, the deployment check page).
# "django.contrib.humanize" is not in Crans' file, but in mailman-web's defaults:
# postorius' page of held messages loads the humanize template tags.
admin_apps = ("crans_admin.admin.apps.CransAdminSiteConfig", "django.contrib.admindocs")
INSTALLED_APPS = (
    "mailman_crans_theme",  # override templates
    *(
        name
        for app in INSTALLED_APPS  # noqa: F405
        for name in (admin_apps if app == "django.contrib.admin" else (app,))
    ),
    # Crans' file also lists "allauth_cas" (django-allauth-cas 1.0.0). It
    # cannot be imported with Django 4 and django-allauth 65; the "crans"
    # provider below is complete without it.
    "allauth_cas_crans",
    # Not in Crans' file: the bundle's commands (crans_set_site,
    # crans_grant_superuser, rename_list, crans_doctor, crans_settings), the
    # same actions in the admin, and the system checks that these settings are
    # in effect, whole.
    "crans_admin",
)

MIDDLEWARE = (
    *MIDDLEWARE,  # noqa: F405
    "crans_admin.rename.redirects.OldListNameRedirectMiddleware",
    # Not in Crans' file: hyperkitty's archiver API in one transaction, so that
    # the task it queues cannot write a list's data before it (docs/development.md).
    "crans_admin.archiving.AtomicArchivingMiddleware",
)

# Reverse-proxy configuration. Crans' file sets SECURE_PROXY_SSL_HEADER twice,
# first to X-Forwarded-Proto, then to X-Forwarded-Scheme: only the second
# assignment ever took effect, and that is the behaviour kept here.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_SCHEME", "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Crans' file sets USE_L10N = True, which is Django 4's default: the setting
# is deprecated (removed in Django 5.0) and setting it warns at start-up.

EMAILNAME = "crans.org"
DEFAULT_FROM_EMAIL = "contact@crans.org"
SERVER_EMAIL = "root@crans.org"

ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
# mailman-web's ACCOUNT_AUTHENTICATION_METHOD = "username_email" and
# ACCOUNT_EMAIL_REQUIRED = True, in the names the installed django-allauth
# knows (newer ones warn about the old names).
globals().update(account_settings(allauth_version()))

SOCIALACCOUNT_PROVIDERS = {
    "crans": {},
}
# Not in Crans' file: the login button goes straight to the CAS, without
# allauth's "Continue" page (the round trip is bound to the browser's session
# by its state id, so a forged link can only log members in as themselves).
# allauth's SOCIALACCOUNT_EMAIL_AUTHENTICATION(_AUTO_CONNECT) stays off: it
# would connect a CAS login to an account holding the address unverified;
# the "crans" provider connects accounts itself, through verified addresses
# only (allauth_cas_crans.first_login).
SOCIALACCOUNT_LOGIN_ON_GET = True

COMPRESS_PRECOMPILERS = (
    ("text/less", "lessc {infile} {outfile}"),
    ("text/x-scss", "sassc -t compressed {infile} {outfile}"),
    ("text/x-sass", "sassc -t compressed {infile} {outfile}"),
)
COMPRESS_OFFLINE = True

POSTORIUS_TEMPLATE_BASE_URL = "http://localhost/mailman3/"

# Not in Crans' file: hyperkitty, postorius and django-mailman3 show avatars
# from gravatar.com, a request to another host for every sender and user on a
# page. The site makes no request outside (members' privacy, closed networks).
HYPERKITTY_ENABLE_GRAVATAR = False

# The Site that `mailman-web crans_set_site` sets up when given no option.
CRANS_SITE_DOMAIN = "lists.crans.org"
CRANS_SITE_NAME = "Listes Crans"
