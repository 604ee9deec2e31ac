#!/usr/bin/env python3
"""Run mailman-web with this bundle: the embedded default settings unless told otherwise.

With the embedded default, the database is ``var/mailman-web.db`` of this
clone, whatever the current folder. A command that reads the database stops
with a message when that database does not exist yet, rather than failing
with "no such table" on an empty file.
"""

import os
import sys
from pathlib import Path

# Commands that need no database, create it, or report its absence themselves.
WITHOUT_DATABASE = {
    *("migrate", "help", "--help", "-h", "version", "--version"),
    *("check", "diffsettings", "collectstatic", "findstatic", "compress"),
    *("compilemessages", "makemessages", "crans_settings", "crans_doctor"),
}


def missing_database(local_dir: Path) -> Path | None:
    """The embedded default's database file when it does not exist (or is empty), else None."""
    database = local_dir / "mailman-web.db"
    if database.exists() and database.stat().st_size > 0:
        return None
    return database


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crans_mailman_web_settings.local")
    os.environ.setdefault("MAILMAN_WEB_LOCAL_DIR", str(here / "var"))
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    asks_help = {"-h", "--help"} & set(sys.argv[2:])
    if (
        os.environ["DJANGO_SETTINGS_MODULE"] == "crans_mailman_web_settings.local"
        and command not in WITHOUT_DATABASE
        and not asks_help
    ):
        database = missing_database(Path(os.environ["MAILMAN_WEB_LOCAL_DIR"]))
        if database is not None:
            sys.exit(
                f"{database} holds no database yet: create it with "
                f"`{sys.executable} {here / 'manage.py'} migrate` (or start the demo once: "
                f"bash {here / '.ci' / 'demo'})."
            )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
