"""PyPI mailman-web's own settings, without the bundle: the stock site of the benchmarks.

As a server's ``/etc/mailman3/settings.py`` is written: mailman-web's
``base`` and ``mailman`` settings, then what each site must set (database,
secrets, addresses). The values come from the same environment as the
bundle's production settings (``devstack.uwsgi.site_environment``), its
files live in ``$MAILMAN_WEB_BASE_DIR``.
"""

import copy
import os
from pathlib import Path

from mailman_web.settings.base import *  # noqa: F403
from mailman_web.settings.mailman import *  # noqa: F403

BASE_DIR = Path(os.environ["MAILMAN_WEB_BASE_DIR"])
STATIC_ROOT = str(BASE_DIR / "static")
LOGGING = copy.deepcopy(LOGGING)  # noqa: F405
LOGGING["handlers"]["file"]["filename"] = str(BASE_DIR / "logs" / "mailmanweb.log")
HAYSTACK_CONNECTIONS = {
    "default": {
        **HAYSTACK_CONNECTIONS["default"],  # noqa: F405
        "PATH": str(BASE_DIR / "fulltext_index"),
    }
}
SECRET_KEY = os.environ["MAILMAN_WEB_SECRET_KEY"]
MAILMAN_REST_API_URL = os.environ["MAILMAN_REST_API_URL"]
MAILMAN_REST_API_PASS = os.environ["MAILMAN_REST_API_PASS"]
MAILMAN_ARCHIVER_KEY = os.environ["MAILMAN_ARCHIVER_KEY"]
MAILMAN_ARCHIVER_FROM = ("127.0.0.1", "::1")
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1"]  # noqa: F405
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("MAILMAN_WEB_DB_NAME", "mailman3web"),
        "USER": os.environ.get("MAILMAN_WEB_DB_USER", "mailman3web"),
        "PASSWORD": os.environ.get("MAILMAN_WEB_DB_PASSWORD", "mailman3web"),
        "HOST": os.environ.get("MAILMAN_WEB_DB_HOST", "127.0.0.1"),
        "PORT": int(os.environ.get("MAILMAN_WEB_DB_PORT", "5432")),
    }
}
