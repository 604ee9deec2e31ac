"""Settings of the CAS server that ``devstack.cas_server.CasServer`` runs."""

import os
from importlib.util import find_spec
from pathlib import Path

# The server's folder (its database), named by CasServer.
FOLDER = Path(os.environ["DEVSTACK_CAS_FOLDER"])
SECRET_KEY = "cas-server-on-loopback-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cas_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "devstack.cas_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(FOLDER / "cas.sqlite3")}
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
STATIC_URL = "/static/"
USE_TZ = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Cookies do not tell ports apart: on 127.0.0.1 beside mailman-web, the CAS
# must not overwrite mailman-web's session and CSRF cookies with its own.
SESSION_COOKIE_NAME = "cas_sessionid"
CSRF_COOKIE_NAME = "cas_csrftoken"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Never ask PyPI for a newer version (no network here).
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_POWERED = False
# Length of the tickets (django-cas-server's default: 64), named by CasServer.
CAS_TICKET_LEN = int(os.environ.get("DEVSTACK_CAS_TICKET_LEN", "64"))
# The login page takes Bootstrap and jQuery from the stack's own apps, not
# from CDNs: the demo and the tests run on a closed network.
STATICFILES_DIRS = [
    ("bootstrap", Path(find_spec("postorius").origin).parent / "static/postorius/libs/bootstrap"),
    ("jquery", Path(find_spec("hyperkitty").origin).parent / "static/hyperkitty/libs/jquery"),
]
CAS_COMPONENT_URLS = {
    "bootstrap4_css": "/static/bootstrap/css/bootstrap.min.css",
    "bootstrap4_js": "/static/bootstrap/js/bootstrap.bundle.min.js",
    "jquery": "/static/jquery/jquery-3.6.0.min.js",
}
