"""The bundle's own settings, ``CRANS_*``: their defaults and checks in one place.

Read them through :func:`crans_admin_settings`, never with ``getattr(settings, ...)``:
a value of the wrong kind is an ``ImproperlyConfigured`` naming the setting,
reported at start-up by the system check ``crans.E007``. They are read at each
call (a few attribute lookups), so a test that overrides one sees it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Core's database URL: a setting (the admin's renames) and, with the same name,
# the environment variable that the rename_list command reads.
CORE_DB_URL = "CRANS_MAILMAN_CORE_DB_URL"
CORE_VAR_DIR = "CRANS_MAILMAN_CORE_VAR_DIR"

DEFAULTS: dict[str, Any] = {
    # The current Site that `crans_set_site` sets (settings/crans.py: Crans' values).
    "CRANS_SITE_DOMAIN": None,
    "CRANS_SITE_NAME": None,
    # Mailman core's side of the admin's renames (both, or neither).
    CORE_DB_URL: None,
    CORE_VAR_DIR: None,
    # `mailman aliases` after a rename, and the Postfix map of renamed lists' addresses.
    "CRANS_MAILMAN_BIN": None,
    "CRANS_MAILMAN_ALIAS_MAP": None,
    # Core's archiver configuration, which crans_doctor compares with mailman-web's.
    "CRANS_MAILMAN_HYPERKITTY_CFG": "/etc/mailman3/mailman-hyperkitty.cfg",
}


@dataclass(frozen=True)
class CransAdminSettings:
    site_domain: str | None
    site_name: str | None
    core_db_url: str | None
    core_var_dir: Path | None
    mailman_bin: str | None
    alias_map: Path | None
    hyperkitty_cfg: Path


def _text(name: str) -> str | None:
    value = getattr(settings, name, DEFAULTS[name])
    if value is None or isinstance(value, str) and value:
        return value
    raise ImproperlyConfigured(f"{name} is {value!r}: give a non-empty string, or leave it unset.")


def _path(name: str) -> Path | None:
    value = getattr(settings, name, DEFAULTS[name])
    if value is None:
        return None
    if isinstance(value, os.PathLike | str) and str(value):
        return Path(value)
    raise ImproperlyConfigured(f"{name} is {value!r}: give a path, or leave it unset.")


def crans_admin_settings() -> CransAdminSettings:
    """The ``CRANS_*`` settings over ``DEFAULTS``; ``ImproperlyConfigured`` for a bad value."""
    return CransAdminSettings(
        site_domain=_text("CRANS_SITE_DOMAIN"),
        site_name=_text("CRANS_SITE_NAME"),
        core_db_url=_text(CORE_DB_URL),
        core_var_dir=_path(CORE_VAR_DIR),
        mailman_bin=_text("CRANS_MAILMAN_BIN"),
        alias_map=_path("CRANS_MAILMAN_ALIAS_MAP"),
        hyperkitty_cfg=_path("CRANS_MAILMAN_HYPERKITTY_CFG"),
    )
