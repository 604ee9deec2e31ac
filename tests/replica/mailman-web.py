# The replica's /etc/mailman3/mailman-web.py on Debian 11: Crans' old settings, in
# short (their provider, their theme, django-allauth-cas), on the test's PostgreSQL
# and CAS server. Read by Debian's settings.py (``from settings_local import *``).
import os

SECRET_KEY = os.environ["MAILMAN_WEB_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
MAILMAN_REST_API_URL = "http://127.0.0.1:8001"
MAILMAN_REST_API_USER = "restadmin"
MAILMAN_REST_API_PASS = os.environ["MAILMAN_REST_API_PASS"]
MAILMAN_ARCHIVER_KEY = os.environ["MAILMAN_ARCHIVER_KEY"]
MAILMAN_ARCHIVER_FROM = ("127.0.0.1", "::1")

INSTALLED_APPS = (
    "mailman_crans_theme",
    "hyperkitty",
    "postorius",
    "django_mailman3",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_gravatar",
    "compressor",
    "haystack",
    "django_extensions",
    "django_q",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth_cas",
    "allauth_cas_crans",
)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql_psycopg2",
        "NAME": os.environ["MAILMAN_WEB_DB_NAME"],
        "USER": os.environ["MAILMAN_WEB_DB_USER"],
        "PASSWORD": os.environ["MAILMAN_WEB_DB_PASSWORD"],
        "HOST": os.environ["MAILMAN_WEB_DB_HOST"],
        "PORT": os.environ["MAILMAN_WEB_DB_PORT"],
    }
}

SOCIALACCOUNT_PROVIDERS = {"crans": {"SERVER_URL": os.environ["REPLICA_CAS_URL"]}}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"

# The confirmation mails of added addresses, for the test to follow.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = "/tmp/replica-mails"

COMPRESS_OFFLINE = False
COMPRESS_ENABLED = False
