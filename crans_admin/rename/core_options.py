"""Where Mailman core's side of a rename is: from the admin's settings or the command's options.

Core's database URL is a secret. The admin reads it from the setting named
:data:`crans_admin.conf.CORE_DB_URL`; the command from the environment variable
of the same name or from a file (``--core-db-file``), never from its command
line, which every user can read in ``/proc/PID/cmdline``. Everything in
:class:`CoreOptions` is checked in one place, with the plan
(:func:`.mailman_core.plan_core_rename`).
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from ..conf import CORE_DB_URL, CORE_VAR_DIR, crans_admin_settings
from .exceptions import MailmanCoreError, RenameError


@dataclass(frozen=True)
class CoreOptions:
    """Where Mailman core's side of a rename is, and what to do around it."""

    db_url: str = field(repr=False)  # a secret: never shown
    var_dir: Path
    force: bool = False  # skip the check that core is stopped
    mailman_bin: str | None = None  # run ``mailman aliases`` with it afterwards
    alias_map: Path | None = None  # the Postfix map of the lists' old addresses


def settings_core_options() -> CoreOptions | None:
    """Core's side from the settings (the admin's renames), or None when they name none."""
    try:
        conf = crans_admin_settings()
    except ImproperlyConfigured as error:  # crans.E007 says so at start-up too
        raise RenameError(str(error)) from error
    if not conf.core_db_url and not conf.core_var_dir:
        return None
    if not conf.core_db_url or not conf.core_var_dir:
        raise RenameError(
            _("The settings give only one of %(db_url)s and %(var_dir)s: give both, or neither.")
            % {"db_url": CORE_DB_URL, "var_dir": CORE_VAR_DIR}
        )
    return CoreOptions(
        db_url=conf.core_db_url,
        var_dir=conf.core_var_dir,
        mailman_bin=conf.mailman_bin,
        alias_map=conf.alias_map,
    )


def command_core_options(
    var_dir: Path,
    *,
    db_file: Path | None = None,
    force: bool = False,
    mailman_bin: str | None = None,
    alias_map: Path | None = None,
) -> CoreOptions:
    """Core's side from the command's options; its database URL from the environment or a file."""
    db_url = command_db_url(db_file)
    if not db_url:
        raise MailmanCoreError(
            _(
                "Give Mailman core's database URL in the %(variable)s environment variable "
                "or in a file (--core-db-file), never on the command line."
            )
            % {"variable": CORE_DB_URL}
        )
    return CoreOptions(
        db_url=db_url,
        var_dir=Path(var_dir),
        force=force,
        mailman_bin=mailman_bin,
        alias_map=alias_map,
    )


def command_db_url(db_file: Path | None) -> str | None:
    """Core's database URL for the command: read from ``db_file``, else from the environment."""
    if db_file is not None:
        return read_db_url(db_file)
    return os.environ.get(CORE_DB_URL) or None


def read_db_url(path: Path) -> str:
    """Core's database URL from a file: the ``[database] url`` of a mailman.cfg, or the URL."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise MailmanCoreError(
            _("Cannot read Mailman core's database URL from %(path)s: %(error)s")
            % {"path": path, "error": error.strerror or error}
        ) from error
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
        url = parser.get("database", "url", fallback="")
    except configparser.Error:
        url = ""
    if not url:
        url = next(
            (line.strip() for line in text.splitlines() if line.strip() and line[0] not in "#;["),
            "",
        )
    if not url:
        raise MailmanCoreError(
            _("%(path)s holds no database URL (a URL, or a mailman.cfg with [database] url).")
            % {"path": path}
        )
    return url
