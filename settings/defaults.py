"""The defaults of mailman-web 0.0.9 that Crans' settings build on, held here.

Crans' file was written over mailman-web's defaults (Debian's settings.py
holds the same ones). They are copied here rather than imported, so that the
settings run on Debian's mailman3-web, which has no ``mailman_web`` package.
Left to ``crans.py``: what depends on the installed mailman-web (``platforms.py``)
or on the folder of its files, and the settings that depend on the version of
django-allauth. tests/test_settings_defaults.py compares this module with
mailman-web's own defaults.
"""

from django.contrib.messages import constants as messages

ADMINS = (("Mailman Suite Admin", "root@localhost"),)
ALLOWED_HOSTS = [
    "localhost",  # Archiving API from Mailman, keep it.
]
DEBUG = False

INSTALLED_APPS = [
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
    "django.contrib.humanize",
    "rest_framework",
    "django_gravatar",
    "compressor",
    "haystack",
    "django_extensions",
    "django_q",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
]

MIDDLEWARE = (
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_mailman3.middleware.TimezoneMiddleware",
    "postorius.middleware.PostoriusMiddleware",
)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.i18n",
                "django.template.context_processors.media",
                "django.template.context_processors.static",
                "django.template.context_processors.tz",
                "django.template.context_processors.csrf",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django_mailman3.context_processors.common",
                "hyperkitty.context_processors.common",
                "postorius.context_processors.postorius",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATICFILES_DIRS = ()
STATICFILES_FINDERS = (
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "compressor.finders.CompressorFinder",
)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "list_index"
LOGOUT_URL = "account_logout"

SERVER_EMAIL = "root@localhost.local"
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
MESSAGE_TAGS = {messages.ERROR: "danger"}

# The file handler's "filename" is set by crans.py (it follows BASE_DIR).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
        "file": {
            "level": "INFO",
            "class": "logging.handlers.WatchedFileHandler",
            "formatter": "verbose",
        },
        "console": {"class": "logging.StreamHandler", "formatter": "simple"},
    },
    "loggers": {
        "django.request": {
            "handlers": ["mail_admins", "file"],
            "level": "ERROR",
            "propagate": True,
        },
        "django": {"handlers": ["file"], "level": "ERROR", "propagate": True},
        "hyperkitty": {"handlers": ["file"], "level": "DEBUG", "propagate": True},
        "postorius": {"handlers": ["console", "file"], "level": "INFO"},
        "q": {"level": "WARNING", "propagate": False, "handlers": ["console", "file"]},
    },
    "formatters": {
        "verbose": {"format": "%(levelname)s %(asctime)s %(process)d %(name)s %(message)s"},
        "simple": {"format": "%(levelname)s %(message)s"},
    },
}

SITE_ID = 1

MAILMAN_REST_API_URL = "http://localhost:8001"
MAILMAN_REST_API_USER = "restadmin"
MAILMAN_ARCHIVER_FROM = ("127.0.0.1", "::1")
POSTORIUS_TEMPLATE_BASE_URL = "http://localhost:8000"
HYPERKITTY_ENABLE_GRAVATAR = True
FILTER_VHOST = False
DEFAULT_FROM_EMAIL = "postorius@localhost"

ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

COMPRESS_PRECOMPILERS = (
    ("text/x-scss", "sassc -t compressed {infile} {outfile}"),
    ("text/x-sass", "sassc -t compressed {infile} {outfile}"),
)
COMPRESS_OFFLINE = True

AUTHENTICATION_BACKENDS = (
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
)

Q_CLUSTER = {
    "retry": 360,
    "timeout": 300,
    "save_limit": 100,
    "orm": "default",
    "workers": 2,
}
