"""Settings of the test suite: the embedded default on PostgreSQL.

The database server is the one `.ci/run` starts; its address comes from the
``MAILMAN_WEB_DB_*`` variables, as in production.
"""

import atexit
import os
import shutil
import tempfile

# The suite keeps its secrets, logs, static files and search index in a
# folder of its own, removed at the end, never in the demo's var/ (a test that
# needs another folder exports MAILMAN_WEB_LOCAL_DIR for its subprocesses).
if not os.environ.get("MAILMAN_WEB_LOCAL_DIR"):
    os.environ["MAILMAN_WEB_LOCAL_DIR"] = tempfile.mkdtemp(prefix="crans-mailman-web-tests-")
    atexit.register(shutil.rmtree, os.environ["MAILMAN_WEB_LOCAL_DIR"], ignore_errors=True)

from .environment import setting  # noqa: E402
from .local import *  # noqa: E402, F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": setting("MAILMAN_WEB_DB_NAME", "mailman3web"),
        "USER": setting("MAILMAN_WEB_DB_USER", "mailman3web"),
        "PASSWORD": setting("MAILMAN_WEB_DB_PASSWORD", "mailman3web"),
        "HOST": setting("MAILMAN_WEB_DB_HOST", "127.0.0.1"),
        "PORT": int(setting("MAILMAN_WEB_DB_PORT", "5432")),
    }
}

DEBUG = False
# Templates are rendered without an offline manifest (tests that check the
# offline compression turn it on themselves).
COMPRESS_ENABLED = False
COMPRESS_OFFLINE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
