"""The embedded default: Crans' settings on one machine, with no secret to give.

SQLite, the search index, the static files and the logs live in one local
folder, ``$MAILMAN_WEB_LOCAL_DIR`` (``var/`` of the clone when run through
``manage.py``). Secrets are drawn at random on first use and kept there.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}

LOCAL_DIR = Path(os.environ.get("MAILMAN_WEB_LOCAL_DIR") or Path.cwd() / "var").resolve()
os.environ.setdefault("MAILMAN_WEB_BASE_DIR", str(LOCAL_DIR))
(LOCAL_DIR / "logs").mkdir(parents=True, exist_ok=True)

from .crans import *  # noqa: E402, F403
from .environment import setting  # noqa: E402


def local_secret(name: str, size: int = 32) -> str:
    """Return the secret ``name`` kept in the local folder, drawn on first use (``size`` bytes).

    One kept shorter than ``size`` characters (drawn smaller before) is drawn anew.
    """
    path = LOCAL_DIR / "secrets" / name
    if not path.exists() or len(path.read_text().strip()) < size:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.write_text(secrets.token_urlsafe(size))
        path.chmod(0o600)
    return path.read_text().strip()


# Django's debug pages (tracebacks, the URL list on a 404) while developing;
# MAILMAN_WEB_DEBUG=0 shows the site's own error pages, as the demo does.
DEBUG = setting("MAILMAN_WEB_DEBUG", "1") != "0"
# Use the offline compression that `manage.py compress` prepared, as in
# production: without it every hyperkitty page runs sassc (~300 ms).
COMPRESS_ENABLED = True

# 64 characters: Django's deployment check (security.W009) wants 50 at least.
SECRET_KEY = local_secret("secret_key", 48)
MAILMAN_REST_API_URL = setting("MAILMAN_REST_API_URL", "http://127.0.0.1:8001")
MAILMAN_REST_API_PASS = setting("MAILMAN_REST_API_PASS", local_secret("rest_api_pass"))
MAILMAN_ARCHIVER_KEY = setting("MAILMAN_ARCHIVER_KEY", local_secret("archiver_key"))

DATABASES = {
    "default": {
        # Django's SQLite, its transactions taking the write lock at BEGIN: the
        # web server and the task queue's workers and monitor write to the same
        # file, and wait for each other's lock (timeout, in seconds) rather than
        # fail at once with "database is locked" (crans_admin/sqlite/).
        "ENGINE": "crans_admin.sqlite",
        "NAME": str(LOCAL_DIR / "mailman-web.db"),
        "OPTIONS": {"timeout": 30},
    }
}
# Tasks go through the queue to the task queue (qcluster), as in production,
# never run inside the request that queues them: run there, hyperkitty's
# update_from_mailman saved core's list data, then the archiver's own stale
# copy of the list wrote it back empty (a private list archived as public).

# Core's archiver configuration, which crans_doctor compares with these
# settings: the demo's core keeps it in its folder of the local folder.
CRANS_MAILMAN_HYPERKITTY_CFG = setting(
    "CRANS_MAILMAN_HYPERKITTY_CFG", str(LOCAL_DIR / "mailman-core" / "hyperkitty.cfg")
)

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1"]  # noqa: F405
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
POSTORIUS_TEMPLATE_BASE_URL = "http://127.0.0.1:8000/mailman3/"

# The CAS server members log in with: the demo's django-cas-server by default.
SOCIALACCOUNT_PROVIDERS = {
    **SOCIALACCOUNT_PROVIDERS,  # noqa: F405
    "crans": {
        **SOCIALACCOUNT_PROVIDERS["crans"],  # noqa: F405
        "SERVER_URL": setting("CRANS_CAS_SERVER_URL", "http://127.0.0.1:8002/cas/"),
        # The demo's members have addresses at example.crans, standing in for crans.org.
        "VERIFIED_EMAIL": ["crans.org", "example.crans"],
    },
}

# Mail that the site sends (account confirmations...) is written to files,
# or handed to the SMTP server on 127.0.0.1:$MAILMAN_WEB_EMAIL_PORT (the demo's sink).
if setting("MAILMAN_WEB_EMAIL_PORT", ""):
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int(setting("MAILMAN_WEB_EMAIL_PORT", ""))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(LOCAL_DIR / "emails")

# Served over http on the loopback: the deployment checks about https do not
# apply (HSTS, redirect to https, secure cookies), nor, for a CAS server on the
# loopback too, the one about the CAS in clear.
SILENCED_SYSTEM_CHECKS = [
    *globals().get("SILENCED_SYSTEM_CHECKS", []),
    *("security.W004", "security.W008", "security.W012", "security.W016"),
]
if urlsplit(SOCIALACCOUNT_PROVIDERS["crans"]["SERVER_URL"]).hostname in LOOPBACK:
    SILENCED_SYSTEM_CHECKS.append("allauth_cas_crans.W002")

# runserver's request lines (method, path, status), which the "django" logger
# above would drop (it takes over its child "django.server" at level ERROR).
LOGGING = {
    **LOGGING,  # noqa: F405
    "formatters": {
        **LOGGING["formatters"],  # noqa: F405
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        **LOGGING["handlers"],  # noqa: F405
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        **LOGGING["loggers"],  # noqa: F405
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
