"""Which mailman-web the settings run on: Debian's mailman3-web or PyPI's mailman-web.

Both run the same Django apps; they differ in their own project files (URLs,
WSGI application) and in where they keep their files. Crans' settings hold
every default they build on (``defaults.py``) and take only these few values
from the base, so that they import nothing that one of the two lacks.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Debian's mailman3-web: settings.py, urls.py, wsgi.py and manage.py.
DEBIAN_PROJECT_DIR = Path("/usr/share/mailman3-web")


@dataclass(frozen=True)
class Base:
    """What the settings take from the installed mailman-web."""

    name: str
    base_dir: str
    log_file: str
    root_urlconf: str
    wsgi_application: str
    static_url: str


MAILMAN_WEB = Base(
    name="PyPI's mailman-web",
    base_dir="/opt/mailman/web",
    log_file="",  # BASE_DIR/logs/mailmanweb.log
    root_urlconf="mailman_web.urls",
    wsgi_application="mailman_web.wsgi.application",
    static_url="/static/",
)
# The values of Debian's /usr/share/mailman3-web/settings.py (its web server
# configurations serve /mailman3/static/ from /var/lib/mailman3/web/static).
DEBIAN = Base(
    name="Debian's mailman3-web",
    base_dir="/var/lib/mailman3/web",
    log_file="/var/log/mailman3/web/mailman-web.log",
    root_urlconf="urls",
    wsgi_application="wsgi.application",
    static_url="/mailman3/static/",
)


def loaded_by_debian_settings() -> bool:
    """Whether Debian's settings.py is importing these settings (from settings_local)."""
    module = sys.modules.get("settings")
    return getattr(module, "__file__", None) == str(DEBIAN_PROJECT_DIR / "settings.py")


def detect_base() -> Base:
    """Return the mailman-web that runs these settings; stop loudly when there is none.

    Debian's when its settings.py imports them, else PyPI's mailman-web when
    installed, else Debian's when its project files are there.
    """
    if loaded_by_debian_settings():
        return DEBIAN
    if importlib.util.find_spec("mailman_web") is not None:
        return MAILMAN_WEB
    if (DEBIAN_PROJECT_DIR / "urls.py").exists():
        return DEBIAN
    # Not an ImportError: Debian's settings.py would silently ignore it.
    raise ImproperlyConfigured(
        "Crans' settings found neither PyPI's mailman-web (no module mailman_web) nor "
        f"Debian's mailman3-web (no {DEBIAN_PROJECT_DIR / 'urls.py'}): install one of them "
        "in the Python environment that runs mailman-web."
    )


def forget_deprecated_debian_settings() -> None:
    """Remove USE_L10N from Debian's settings.py while it imports these settings.

    Debian's file sets it (to Django's default); Django 4.2 deprecates it and
    warns at every start-up. Crans' settings leave it unset on both bases.
    """
    if loaded_by_debian_settings():
        vars(sys.modules["settings"]).pop("USE_L10N", None)


def log_file(base: Base, base_dir: Path) -> Path:
    """Where the log goes: Debian's file (its logrotate's), else ``base_dir/logs/mailmanweb.log``.

    On Debian, a ``MAILMAN_WEB_BASE_DIR`` moves the data, never the log.
    """
    return Path(base.log_file) if base.log_file else base_dir / "logs" / "mailmanweb.log"


def writable_log_file(path: Path) -> str:
    """``path``, its folder created if missing; a clear error if it cannot be written.

    Not an ImportError (Debian's settings.py would ignore it), and never
    logging's "Unable to configure handler 'file'".
    """
    user = (
        "www-data" if path.is_relative_to("/var/log/mailman3") else "the user running mailman-web"
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"The log folder {path.parent} does not exist and cannot be created "
            f"({error.strerror}): create it, writable by {user}."
        ) from error
    target = path if path.exists() else path.parent
    if not os.access(target, os.W_OK):
        raise ImproperlyConfigured(
            f"The log {'file' if target == path else 'folder'} {target} cannot be written by "
            f"this user (uid {os.getuid()}): make it writable by {user}."
        )
    return str(path)
