"""Mailman core's side of renaming a list: its database rows and its folders.

Mailman core cannot rename a list, and its REST API refuses to (``list_name``,
``mail_host`` and ``list_id`` are read-only). Core holds the list by name in:

- ``mailinglist``: ``list_name`` (the LOCAL PART), ``mail_host``, ``list_id``,
  ``display_name`` and ``subject_prefix`` (changed only while it is the default
  ``[Display name] ``);
- ``member.list_id``, ``ban.list_id``, ``bounceevent.list_id``;
- ``template.context`` (the list-id) and ``template.uri`` (postorius' template
  URL holds the list-id as one path segment);
- ``pendedkeyvalue.value`` (JSON) under the keys ``list_id`` (pending
  subscriptions, held messages), ``_mod_listid`` and ``listid`` (the metadata of
  a held message: without ``listid``, approving it after the rename would queue
  it for a list that no longer exists);
- the folders ``lists/<list-id>`` and ``templates/lists/<list-id>`` (and the
  deprecated ``templates/lists/<posting address>``) of its var dir.

Every other table points at the list by its integer id and follows untouched.

Core's database is reached with plain DB-API connections (psycopg2, sqlite3),
not through Django: it is a peer's database, outside Django's connection
handling, so its transaction is exactly the one opened here, whatever the
caller's ``transaction.atomic()`` blocks (or the test framework) do with the web
database; it can be committed before the web one and reverted after the web one
failed. The SQL is written once with ``%s`` parameters (rewritten to ``?`` for
SQLite).

:func:`plan_core_rename` only reads and checks; :class:`CoreRename` applies a
plan in one transaction, then moves the folders, and can revert it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from django.utils.translation import gettext as _

# pendedkeyvalue keys whose JSON value is the list-id.
PENDED_LIST_ID_KEYS = ("list_id", "_mod_listid", "listid")
# Folders of the var dir, besides the queues, where core keeps messages of a list.
SPOOL_FOLDERS = ("queue", "archives/hyperkitty/spool")
REST_TIMEOUT = 3  # seconds
QUEUE_FILES_SHOWN = 5


class CoreRenameError(Exception):
    """A reason to refuse the core side of a rename; its message is shown as is."""


@dataclass(frozen=True)
class RowUpdate:
    """Rows of one core table that a rename changes."""

    table: str
    columns: str
    rows: int

    def describe(self) -> str:
        return _("table %(table)s (%(columns)s): %(rows)d row(s)") % {
            "table": self.table,
            "columns": self.columns,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class FolderMove:
    """A folder of core's var dir that a rename moves."""

    source: Path
    target: Path

    def describe(self) -> str:
        return _("folder %(source)s -> %(target)s") % {
            "source": self.source,
            "target": self.target,
        }


@dataclass(frozen=True)
class CoreRenamePlan:
    """Everything the core side of a rename changes, checked by :func:`plan_core_rename`."""

    db_url: str
    var_dir: Path
    old_list_id: str
    new_list_id: str
    new_list_name: str  # local part
    new_mail_host: str
    new_display_name: str
    new_subject_prefix: str | None  # None: core's subject_prefix stays as it is
    old_list_name: str
    old_mail_host: str
    old_display_name: str
    old_subject_prefix: str | None
    changes: tuple[RowUpdate | FolderMove, ...]

    @property
    def folder_moves(self) -> tuple[FolderMove, ...]:
        return tuple(change for change in self.changes if isinstance(change, FolderMove))

    def describe(self) -> list[str]:
        """One line per change, for a dry run and for the report alike."""
        lines = [
            _(
                "list %(old)s -> %(new)s (list_name %(name)r, mail_host %(host)r, "
                "display_name %(display_name)r)"
            )
            % {
                "old": self.old_list_id,
                "new": self.new_list_id,
                "name": self.new_list_name,
                "host": self.new_mail_host,
                "display_name": self.new_display_name,
            }
        ]
        if self.new_subject_prefix is None:
            lines.append(_("subject_prefix %(prefix)r kept") % {"prefix": self.old_subject_prefix})
        else:
            lines.append(
                _("subject_prefix %(old)r -> %(new)r")
                % {"old": self.old_subject_prefix, "new": self.new_subject_prefix}
            )
        lines.extend(change.describe() for change in self.changes)
        return lines

    def reversed(self) -> CoreRenamePlan:
        """The plan that undoes this one (new name -> old name)."""
        return replace(
            self,
            old_list_id=self.new_list_id,
            new_list_id=self.old_list_id,
            new_list_name=self.old_list_name,
            new_mail_host=self.old_mail_host,
            new_display_name=self.old_display_name,
            new_subject_prefix=None if self.new_subject_prefix is None else self.old_subject_prefix,
            old_list_name=self.new_list_name,
            old_mail_host=self.new_mail_host,
            old_display_name=self.new_display_name,
            old_subject_prefix=(
                self.old_subject_prefix
                if self.new_subject_prefix is None
                else self.new_subject_prefix
            ),
            changes=tuple(
                FolderMove(change.target, change.source)
                if isinstance(change, FolderMove)
                else change
                for change in self.changes
            ),
        )


@dataclass(frozen=True)
class _Update:
    """One UPDATE of a rename; ``condition`` selects the rows it changes."""

    table: str
    columns: str
    assignments: str
    assignment_params: tuple
    condition: str
    condition_params: tuple

    def count(self, database: _CoreDatabase) -> int:
        return database.fetchone(
            f"SELECT COUNT(*) FROM {self.table} WHERE {self.condition}", self.condition_params
        )[0]

    def run(self, database: _CoreDatabase) -> int:
        return database.execute(
            f"UPDATE {self.table} SET {self.assignments} WHERE {self.condition}",
            self.assignment_params + self.condition_params,
        )


def _updates(plan: CoreRenamePlan) -> list[_Update]:
    """The UPDATEs that carry out ``plan``, in the order they must run."""
    old, new = plan.old_list_id, plan.new_list_id
    list_columns = ["list_name", "mail_host", "list_id", "display_name"]
    list_values = [plan.new_list_name, plan.new_mail_host, new, plan.new_display_name]
    if plan.new_subject_prefix is not None:
        list_columns.append("subject_prefix")
        list_values.append(plan.new_subject_prefix)
    by_list_id = [
        _Update(table, "list_id", "list_id = %s", (new,), "list_id = %s", (old,))
        for table in ("member", "ban", "bounceevent")
    ]
    old_segment, new_segment = f"/{old}/", f"/{new}/"
    keys = ", ".join(["%s"] * len(PENDED_LIST_ID_KEYS))
    return [
        _Update(
            "mailinglist",
            ", ".join(list_columns),
            ", ".join(f"{column} = %s" for column in list_columns),
            tuple(list_values),
            "list_id = %s",
            (old,),
        ),
        *by_list_id,
        # uri before context: the uri's condition selects the list's templates by context.
        _Update(
            "template",
            "uri",
            "uri = REPLACE(uri, %s, %s)",
            (old_segment, new_segment),
            "context = %s AND REPLACE(uri, %s, %s) <> uri",
            (old, old_segment, new_segment),
        ),
        _Update("template", "context", "context = %s", (new,), "context = %s", (old,)),
        _Update(
            "pendedkeyvalue",
            f"value of {', '.join(PENDED_LIST_ID_KEYS)}",
            "value = %s",
            (json.dumps(new),),
            f"key IN ({keys}) AND value = %s",
            (*PENDED_LIST_ID_KEYS, json.dumps(old)),
        ),
    ]


def _folder_moves(plan: CoreRenamePlan) -> tuple[FolderMove, ...]:
    """The list's folders in the var dir that exist, with their new place (checked free)."""
    lists = plan.var_dir / "lists"
    templates = plan.var_dir / "templates" / "lists"
    old_address = f"{plan.old_list_name}@{plan.old_mail_host}"
    new_address = f"{plan.new_list_name}@{plan.new_mail_host}"
    candidates = (
        FolderMove(lists / plan.old_list_id, lists / plan.new_list_id),
        FolderMove(templates / plan.old_list_id, templates / plan.new_list_id),
        FolderMove(templates / old_address, templates / new_address),
    )
    moves = tuple(move for move in candidates if move.source.exists())
    for move in moves:
        if move.target.exists():
            raise CoreRenameError(
                _("Mailman core's folder %(folder)s already exists: the new name is taken.")
                % {"folder": move.target}
            )
    return moves


class _CoreDatabase:
    """A DB-API connection to core's database; SQL is written with ``%s`` parameters."""

    def __init__(self, connection, placeholder: str):
        self.connection = connection
        self.placeholder = placeholder

    def _cursor(self, sql: str, params: tuple):
        cursor = self.connection.cursor()
        cursor.execute(sql.replace("%s", self.placeholder), params)
        return cursor

    def execute(self, sql: str, params: tuple = ()) -> int:
        """Run ``sql``; return the number of rows it changed."""
        return self._cursor(sql, params).rowcount

    def fetchone(self, sql: str, params: tuple = ()) -> tuple | None:
        return self._cursor(sql, params).fetchone()

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def close(self) -> None:
        self.connection.close()


def _redacted(db_url: str) -> str:
    """``db_url`` without its password, to be shown."""
    parts = urlsplit(db_url)
    if parts.password is None:
        return db_url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _first_line(error: Exception) -> str:
    """The database's message, without the lines of context that libpq adds."""
    return str(error).strip().splitlines()[0]


def _connect(db_url: str, *, readonly: bool = False) -> _CoreDatabase:
    """Open core's database from the URL of its ``mailman.cfg`` (PostgreSQL or SQLite)."""
    parts = urlsplit(db_url)
    scheme, _sep, _driver = parts.scheme.partition("+")
    try:
        if scheme in ("postgres", "postgresql") and parts.path.strip("/"):
            # libpq reads the URL itself (escapes, ?sslmode=..., ?host=/socket/dir).
            connection = psycopg2.connect(urlunsplit(parts._replace(scheme="postgresql")))
            connection.set_session(readonly=readonly)
            return _CoreDatabase(connection, "%s")
        if scheme == "sqlite" and parts.path.startswith("//"):
            # A URI, so that a missing file is an error instead of a new database.
            mode = "ro" if readonly else "rw"
            uri = f"{Path(parts.path[1:]).as_uri()}?mode={mode}"
            connection = sqlite3.connect(uri, uri=True)
            return _CoreDatabase(connection, "?")
    except (psycopg2.Error, sqlite3.Error) as error:
        raise CoreRenameError(
            _("Cannot open Mailman core's database %(url)s: %(error)s")
            % {"url": _redacted(db_url), "error": _first_line(error)}
        ) from error
    raise CoreRenameError(
        _(
            "Invalid Mailman core database URL %(url)r: expected "
            "postgresql://user:password@host:port/database (as in mailman.cfg) or "
            "sqlite:////absolute/path/mailman.db."
        )
        % {"url": _redacted(db_url)}
    )


@contextmanager
def _database_errors(db_url: str) -> Iterator[None]:
    """Turn a database error of core's database into a ``CoreRenameError``."""
    try:
        yield
    except (psycopg2.Error, sqlite3.Error) as error:
        raise CoreRenameError(
            _("Mailman core's database %(url)s: %(error)s (is it Mailman core's database?)")
            % {"url": _redacted(db_url), "error": _first_line(error)}
        ) from error


def _check_core_stopped(var_dir: Path, rest_url: str | None) -> None:
    """Raise ``CoreRenameError`` unless core is stopped: REST silent, no master pid or lock."""
    if rest_url is not None:
        _check_rest_silent(rest_url)
    for path in (var_dir / "master.pid", var_dir / "locks" / "master.lck"):
        if path.exists():
            raise CoreRenameError(
                _(
                    "Mailman core seems to be running: %(path)s exists. Stop it "
                    "(`mailman stop`) and rename again, or use --force if it is stopped."
                )
                % {"path": path}
            )


def _check_rest_silent(rest_url: str) -> None:
    """Raise ``CoreRenameError`` unless connections to core's REST API are refused."""
    try:
        urllib.request.urlopen(rest_url, timeout=REST_TIMEOUT).close()
    except urllib.error.HTTPError:
        pass  # an HTTP answer, even an error: core's REST API is up
    except OSError as error:  # URLError, or a timeout while reading
        reason = getattr(error, "reason", error)
        if isinstance(reason, ConnectionRefusedError):
            return
        raise CoreRenameError(
            _(
                "Cannot tell whether Mailman core is stopped: its REST API %(url)s gave "
                "%(error)s. Use --force if it is stopped."
            )
            % {"url": rest_url, "error": reason}
        ) from error
    raise CoreRenameError(
        _("Mailman core is running: its REST API answers at %(url)s. Stop it and rename again.")
        % {"url": rest_url}
    )


def _queued_files(var_dir: Path, list_id: str) -> list[Path]:
    """Queue and archiver spool files that hold a message of the list.

    They are pickles of the message and of its metadata, whose ``listid`` (a
    string, stored as UTF-8) names the list: finding the list-id's bytes in a
    file is enough to keep it out of a rename.
    """
    needle = list_id.encode()
    found = []
    for folder in SPOOL_FOLDERS:
        for path in sorted((var_dir / folder).rglob("*")):
            if path.is_file() and needle in path.read_bytes():
                found.append(path)
    return found


def _check_no_queued_messages(var_dir: Path, list_id: str) -> None:
    queued = _queued_files(var_dir, list_id)
    if queued:
        shown = ", ".join(str(path.relative_to(var_dir)) for path in queued[:QUEUE_FILES_SHOWN])
        raise CoreRenameError(
            _(
                "Mailman core still has %(count)d queued file(s) for %(list)s in %(dir)s "
                "(%(files)s): let core process them (or remove them), or use --force."
            )
            % {"count": len(queued), "list": list_id, "dir": var_dir, "files": shown}
        )


def plan_core_rename(
    db_url: str,
    var_dir: Path,
    *,
    old_list_id: str,
    new_list_id: str,
    new_list_name: str,
    new_mail_host: str,
    new_display_name: str,
    new_subject_prefix: str | None,
    check_stopped: bool = True,
    rest_url: str | None = None,
) -> CoreRenamePlan:
    """Check the core side of a rename and count what it changes; change nothing.

    ``new_subject_prefix`` is applied only while core's prefix is its default,
    ``[<display name>] ``; otherwise the plan keeps core's own.
    Raise ``CoreRenameError``: core's database unreachable or bad URL, OLD not
    in core, NEW already in core or its domain unknown to core, or, unless
    ``check_stopped`` is False (--force), core running (REST answering at
    ``rest_url``, a master pid or lock in ``var_dir``) or messages of the list
    queued in ``var_dir``.
    """
    var_dir = Path(var_dir)
    if old_list_id == new_list_id:
        raise CoreRenameError(_("The list %(list)s already has this name.") % {"list": old_list_id})
    if new_list_id != f"{new_list_name}.{new_mail_host}":
        raise CoreRenameError(
            _("List-id %(list_id)s does not match %(name)s@%(host)s.")
            % {"list_id": new_list_id, "name": new_list_name, "host": new_mail_host}
        )
    database = _connect(db_url, readonly=True)
    try:
        with _database_errors(db_url):
            old_list_name, old_mail_host, old_display_name, old_subject_prefix = _read_list(
                database, old_list_id
            )
            _check_name_free(database, new_list_id, new_list_name, new_mail_host)
            if old_subject_prefix != f"[{old_display_name}] ":
                new_subject_prefix = None
            plan = CoreRenamePlan(
                db_url=db_url,
                var_dir=var_dir,
                old_list_id=old_list_id,
                new_list_id=new_list_id,
                new_list_name=new_list_name,
                new_mail_host=new_mail_host,
                new_display_name=new_display_name,
                new_subject_prefix=new_subject_prefix,
                old_list_name=old_list_name,
                old_mail_host=old_mail_host,
                old_display_name=old_display_name,
                old_subject_prefix=old_subject_prefix,
                changes=(),
            )
            _check_no_leftovers(database, plan)
            rows = tuple(
                RowUpdate(update.table, update.columns, update.count(database))
                for update in _updates(plan)
            )
    finally:
        database.rollback()
        database.close()
    if check_stopped:
        _check_core_stopped(var_dir, rest_url)
        _check_no_queued_messages(var_dir, old_list_id)
    return replace(plan, changes=rows + _folder_moves(plan))


def _read_list(database: _CoreDatabase, list_id: str) -> tuple[str, str, str, str | None]:
    """``list_name, mail_host, display_name, subject_prefix`` of core's list ``list_id``."""
    row = database.fetchone(
        "SELECT list_name, mail_host, display_name, subject_prefix FROM mailinglist "
        "WHERE list_id = %s",
        (list_id,),
    )
    if row is None:
        raise CoreRenameError(_("Mailman core has no list %(list)s.") % {"list": list_id})
    return row


def _check_name_free(database: _CoreDatabase, list_id: str, list_name: str, mail_host: str):
    """Raise ``CoreRenameError`` unless core can call a list ``list_name@mail_host``."""
    taken = database.fetchone(
        "SELECT list_id FROM mailinglist WHERE list_id = %s OR (list_name = %s AND mail_host = %s)",
        (list_id, list_name, mail_host),
    )
    if taken is not None:
        raise CoreRenameError(_("Mailman core already has a list %(list)s.") % {"list": list_id})
    if database.fetchone("SELECT 1 FROM domain WHERE mail_host = %s", (mail_host,)) is None:
        raise CoreRenameError(
            _("Mailman core has no domain %(domain)s: create it in core first.")
            % {"domain": mail_host}
        )


def _check_no_leftovers(database: _CoreDatabase, plan: CoreRenamePlan) -> None:
    """Raise ``CoreRenameError`` if rows already name the new list-id.

    Deleting a list leaves its templates, bounce events and pending
    subscriptions behind; the renamed list would inherit them (two templates
    of one name break core's look-ups), and a revert, which selects rows by the
    new list-id, would take them along. These are the rows the reverse rename
    would select.
    """
    leftovers = [
        f"{update.table}.{update.columns}: {count}"
        for update in _updates(plan.reversed())[1:]  # [0]: mailinglist, checked already
        if (count := update.count(database))
    ]
    if leftovers:
        raise CoreRenameError(
            _(
                "Mailman core's database still has rows that name %(list)s, left by a "
                "deleted list (%(rows)s): delete them first, or choose another name."
            )
            % {"list": plan.new_list_id, "rows": "; ".join(leftovers)}
        )


def _apply_rows(database: _CoreDatabase, plan: CoreRenamePlan) -> None:
    """Run the UPDATEs of ``plan`` in the connection's open transaction."""
    with _database_errors(plan.db_url):
        updates = _updates(plan)
        if updates[0].run(database) != 1:
            raise CoreRenameError(
                _("Mailman core's list %(list)s disappeared since the plan was made.")
                % {"list": plan.old_list_id}
            )
        for update in updates[1:]:
            update.run(database)


def _move_folders(moves: tuple[FolderMove, ...]) -> None:
    """Move the folders; if one fails, put back those already moved and raise."""
    done: list[FolderMove] = []
    try:
        for move in moves:
            os.rename(move.source, move.target)
            done.append(move)
    except OSError:
        for move in reversed(done):
            os.rename(move.target, move.source)
        raise


class CoreRename:
    """Apply a :class:`CoreRenamePlan` in one transaction of core's database.

    ``with CoreRename(plan) as core:`` runs every UPDATE (nothing committed yet);
    ``core.commit()`` commits and then moves the folders. Leaving the block
    without ``commit()`` rolls back. After ``commit()``, ``core.revert()``
    applies the reverse rename (rows and folders) in a new transaction.
    """

    def __init__(self, plan: CoreRenamePlan):
        self.plan = plan
        self.committed = False
        self._database: _CoreDatabase | None = None

    def __enter__(self) -> CoreRename:
        self._database = _connect(self.plan.db_url)
        try:
            _apply_rows(self._database, self.plan)
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._close()

    def _close(self) -> None:
        if self._database is not None:
            if not self.committed:
                self._database.rollback()
            self._database.close()
            self._database = None

    def commit(self) -> None:
        """Commit the rows, then move the folders (a failed move undoes the rows)."""
        with _database_errors(self.plan.db_url):
            self._database.commit()
        self.committed = True
        try:
            _move_folders(self.plan.folder_moves)
        except OSError as error:
            _apply(self.plan.reversed(), move_folders=False)
            self.committed = False
            raise CoreRenameError(
                _(
                    "Moving Mailman core's folders failed (%(error)s): core's database was "
                    "put back, the list is still %(list)s."
                )
                % {"error": error, "list": self.plan.old_list_id}
            ) from error

    def revert(self) -> None:
        """Undo a committed rename: the reverse rename of rows and folders."""
        if not self.committed:
            raise CoreRenameError(_("Nothing to revert: core's rename was not committed."))
        _apply(self.plan.reversed())
        self.committed = False


def _apply(plan: CoreRenamePlan, *, move_folders: bool = True) -> None:
    """Apply ``plan`` in a transaction of its own and commit it (then move its folders)."""
    database = _connect(plan.db_url)
    try:
        _apply_rows(database, plan)
        with _database_errors(plan.db_url):
            database.commit()
    finally:
        database.close()
    if move_folders:
        _move_folders(plan.folder_moves)


def run_mailman_aliases(mailman_bin: str, config: str | Path | None = None) -> str:
    """Run ``mailman aliases`` (regenerates the MTA maps); return its output."""
    command = [str(mailman_bin)]
    if config is not None:
        command += ["-C", str(config)]
    if os.geteuid() == 0:
        command.append("--run-as-root")
    command.append("aliases")
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except OSError as error:
        raise CoreRenameError(
            _("Cannot run %(command)s: %(error)s") % {"command": mailman_bin, "error": error}
        ) from error
    if result.returncode != 0:
        raise CoreRenameError(
            _("`%(command)s` failed (exit %(code)d): %(output)s")
            % {
                "command": " ".join(command),
                "code": result.returncode,
                "output": (result.stderr or result.stdout).strip(),
            }
        )
    return result.stdout
