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

:func:`plan_core_rename` only reads and checks; :func:`rename_core_rows` and
:func:`move_folders` apply a plan, :func:`undo_core_rows` undoes it. Each of them
looks first at what is done already, so that a rename interrupted anywhere can
be resumed or undone by running them again. :func:`core_serves_list` asks core's
REST API about a list, for the web-only renames.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sqlite3
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from django.utils.translation import gettext as _

from ..text import database_error, database_location
from .exceptions import MailmanCoreError

# pendedkeyvalue keys whose JSON value is the list-id, and how the plan names that column.
PENDED_LIST_ID_KEYS = ("list_id", "_mod_listid", "listid")
PENDED_COLUMNS = f"value of {', '.join(PENDED_LIST_ID_KEYS)}"
# Folders of the var dir, besides the queues, where core keeps messages of a list.
SPOOL_FOLDERS = ("queue", "archives/hyperkitty/spool")
REST_TIMEOUT = 3  # seconds
# A database host that accepts the connection and never answers must not hang
# the command or an admin worker.
CONNECT_TIMEOUT = 5  # seconds
QUEUE_FILES_SHOWN = 5
# flufl.lock's lock file holds ``<lock file>|<host>|<pid>|<random>``.
LOCK_SEPARATOR = "|"
# Folders that Mailman core creates in its var dir on its first start.
VAR_DIR_FOLDERS = ("lists", "queue")


def _check_var_dir(var_dir: Path) -> None:
    """Raise ``MailmanCoreError`` unless ``var_dir`` looks like Mailman core's var dir."""
    if not var_dir.is_dir():
        raise MailmanCoreError(
            _("Mailman core's var dir %(dir)s is not a folder.") % {"dir": var_dir}
        )
    missing = [name for name in VAR_DIR_FOLDERS if not (var_dir / name).is_dir()]
    if missing:
        raise MailmanCoreError(
            _(
                "%(dir)s does not look like Mailman core's var dir: it has no %(missing)s "
                "folder (core creates them on its first start)."
            )
            % {"dir": var_dir, "missing": ", ".join(missing)}
        )


@dataclass(frozen=True)
class RowUpdate:
    """Rows of one core table that a rename changes."""

    table: str
    columns: str
    rows: int

    def describe(self) -> str:
        return _("table %(table)s (%(columns)s): %(rows)d row(s)") % {
            "table": self.table,
            "columns": shown_columns(self.columns),
            "rows": self.rows,
        }


def shown_columns(columns: str) -> str:
    """Columns of an update as reports show them (the plan's data keeps them in English)."""
    if columns == PENDED_COLUMNS:
        return _("value of %(keys)s") % {"keys": ", ".join(PENDED_LIST_ID_KEYS)}
    return columns


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

    db_url: str = field(repr=False)  # a secret: never shown
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
    # The old posting address becomes one of the list's acceptable aliases (so
    # that replies to old threads are not held), unless it is one already.
    add_alias: bool = True
    # What the real run would refuse now (core running, messages of the list
    # queued): only a preview, a dry run, plans despite them.
    obstacles: tuple[str, ...] = ()

    @property
    def old_posting_address(self) -> str:
        return f"{self.old_list_name}@{self.old_mail_host}"

    @property
    def new_posting_address(self) -> str:
        return f"{self.new_list_name}@{self.new_mail_host}"

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
        if self.add_alias:
            lines.append(
                _("table acceptablealias: %(address)s added to the list's acceptable aliases")
                % {"address": self.old_posting_address}
            )
        return lines

    def to_data(self) -> dict:
        """The plan as JSON data, for the journal; without the database URL (a secret)."""
        data = {
            each.name: getattr(self, each.name)
            for each in fields(self)
            if each.name not in ("db_url", "var_dir", "changes", "obstacles")
        }
        data["var_dir"] = str(self.var_dir)
        data["changes"] = [
            {"table": change.table, "columns": change.columns, "rows": change.rows}
            if isinstance(change, RowUpdate)
            else {"source": str(change.source), "target": str(change.target)}
            for change in self.changes
        ]
        return data

    @classmethod
    def from_data(cls, data: dict, db_url: str) -> CoreRenamePlan:
        changes = tuple(
            RowUpdate(**change)
            if "table" in change
            else FolderMove(Path(change["source"]), Path(change["target"]))
            for change in data["changes"]
        )
        return cls(
            **{**data, "db_url": db_url, "var_dir": Path(data["var_dir"]), "changes": changes}
        )

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
            PENDED_COLUMNS,
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
            raise MailmanCoreError(
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


def _connect(db_url: str, *, readonly: bool = False) -> _CoreDatabase:
    """Open core's database from the URL of its ``mailman.cfg`` (PostgreSQL or SQLite)."""
    parts = urlsplit(db_url)
    scheme, _sep, _driver = parts.scheme.partition("+")
    try:
        if scheme in ("postgres", "postgresql") and parts.path.strip("/"):
            # libpq reads the URL itself (escapes, ?sslmode=..., ?host=/socket/dir).
            connection = psycopg2.connect(
                urlunsplit(parts._replace(scheme="postgresql")), connect_timeout=CONNECT_TIMEOUT
            )
            connection.set_session(readonly=readonly)
            return _CoreDatabase(connection, "%s")
        if scheme == "sqlite" and parts.path.startswith("//"):
            # A URI, so that a missing file is an error instead of a new database.
            mode = "ro" if readonly else "rw"
            uri = f"{Path(parts.path[1:]).as_uri()}?mode={mode}"
            connection = sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT)
            return _CoreDatabase(connection, "?")
    except (psycopg2.Error, sqlite3.Error) as error:
        raise MailmanCoreError(
            _("Cannot open Mailman core's database %(database)s: %(error)s")
            % {"database": database_location(db_url), "error": database_error(error, db_url)}
        ) from error
    raise MailmanCoreError(
        _(
            "Invalid Mailman core database URL (%(database)s): expected "
            "postgresql://user:password@host:port/database (as in mailman.cfg) or "
            "sqlite:////absolute/path/mailman.db."
        )
        % {"database": database_location(db_url)}
    )


@contextmanager
def _database_errors(db_url: str) -> Iterator[None]:
    """Turn a database error of core's database into a ``MailmanCoreError``."""
    try:
        yield
    except (psycopg2.Error, sqlite3.Error) as error:
        raise MailmanCoreError(
            _("Mailman core's database %(database)s: %(error)s (is it Mailman core's database?)")
            % {"database": database_location(db_url), "error": database_error(error, db_url)}
        ) from error


def check_core_stopped(var_dir: Path, rest_url: str | None) -> None:
    """Raise ``MailmanCoreError`` unless core is stopped: REST silent, no live master."""
    running = core_running(var_dir, rest_url)
    if running:
        raise MailmanCoreError(running[0])


def core_running(var_dir: Path, rest_url: str | None) -> list[str]:
    """Why Mailman core seems to run (its REST API answers, a live master); [] if stopped.

    A ``master.pid`` or ``master.lck`` left by a core that was killed names a
    process that no longer runs on this host: it does not count.
    """
    reasons = []
    if rest_url is not None and (answering := _rest_answering(rest_url)) is not None:
        reasons.append(answering)
    for path in (var_dir / "master.pid", var_dir / "locks" / "master.lck"):
        if path.exists() and not _stale(path):
            reasons.append(
                _(
                    "Mailman core seems to be running: %(path)s exists. Stop it "
                    "(`mailman stop`) and rename again, or use --force if it is stopped."
                )
                % {"path": path}
            )
            break  # the lock says it again
    return reasons


def _stale(path: Path) -> bool:
    """Whether the pid file or the lock (flufl.lock: ``file|host|pid|random``) names a dead process.

    A lock of another host, or a file that cannot be read, is not stale.
    """
    try:
        text = path.read_text().strip()
    except OSError:
        return False
    host, pid = socket.getfqdn(), text.split()[0] if text else ""
    if LOCK_SEPARATOR in text:
        _file, host, pid, *_random = text.split(LOCK_SEPARATOR)
    if host != socket.getfqdn() or not pid.isdigit():
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # A killed master that nobody reaped is a zombie: dead too.
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _rest_answering(rest_url: str) -> str | None:
    """Why core seems to run, unless connections to its REST API are refused (None)."""
    try:
        urllib.request.urlopen(rest_url, timeout=REST_TIMEOUT).close()
    except urllib.error.HTTPError:
        pass  # an HTTP answer, even an error: core's REST API is up
    except OSError as error:  # URLError, or a timeout while reading
        reason = getattr(error, "reason", error)
        if isinstance(reason, ConnectionRefusedError):
            return None
        return _(
            "Cannot tell whether Mailman core is stopped: its REST API %(url)s gave "
            "%(error)s. Use --force if it is stopped."
        ) % {"url": rest_url, "error": reason}
    return _(
        "Mailman core is running: its REST API answers at %(url)s. Stop it and rename again."
    ) % {"url": rest_url}


def core_serves_list(rest_url: str, user: str, password: str, list_id: str) -> bool:
    """Whether core's REST API serves the list ``list_id``; raise ``MailmanCoreError`` if unsure."""
    request = urllib.request.Request(f"{rest_url.rstrip('/')}/3.1/lists/{list_id}")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        urllib.request.urlopen(request, timeout=REST_TIMEOUT).close()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        reason = f"HTTP {error.code}"
    except OSError as error:  # URLError, or a timeout while reading
        reason = getattr(error, "reason", error)
    else:
        return True
    raise MailmanCoreError(
        _("Cannot ask Mailman core's REST API %(url)s about %(list)s: %(error)s.")
        % {"url": rest_url, "list": list_id, "error": reason}
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


def _queued_messages(var_dir: Path, list_id: str) -> str | None:
    """Why the list cannot be renamed while core holds queued messages of it, or None."""
    queued = _queued_files(var_dir, list_id)
    if not queued:
        return None
    shown = ", ".join(str(path.relative_to(var_dir)) for path in queued[:QUEUE_FILES_SHOWN])
    return _(
        "Mailman core still has %(count)d queued file(s) for %(list)s in %(dir)s "
        "(%(files)s): let core process them (or remove them), or use --force."
    ) % {"count": len(queued), "list": list_id, "dir": var_dir, "files": shown}


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
    preview: bool = False,
) -> CoreRenamePlan:
    """Check the core side of a rename and count what it changes; change nothing.

    ``new_subject_prefix`` is applied only while core's prefix is its default,
    ``[<display name>] ``; otherwise the plan keeps core's own.
    Raise ``MailmanCoreError``: core's database unreachable or bad URL, OLD not
    in core, NEW already in core or its domain unknown to core, or, unless
    ``check_stopped`` is False (--force), core running (REST answering at
    ``rest_url``, a master pid or lock in ``var_dir``) or messages of the list
    queued in ``var_dir``. A ``preview`` (a dry run, which changes nothing)
    refuses none of these last ones: the plan's ``obstacles`` say them.
    """
    var_dir = Path(var_dir)
    _check_var_dir(var_dir)
    if old_list_id == new_list_id:
        raise MailmanCoreError(
            _("The list %(list)s already has this name.") % {"list": old_list_id}
        )
    if new_list_id != f"{new_list_name}.{new_mail_host}":
        raise MailmanCoreError(
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
            plan = replace(plan, add_alias=not _has_alias(database, plan))
            rows = tuple(
                RowUpdate(update.table, update.columns, update.count(database))
                for update in _updates(plan)
            )
    finally:
        database.rollback()
        database.close()
    obstacles: tuple[str, ...] = ()
    if check_stopped:
        queued = _queued_messages(var_dir, old_list_id)
        obstacles = (*core_running(var_dir, rest_url), *([queued] if queued else []))
        if obstacles and not preview:
            raise MailmanCoreError(obstacles[0])
    return replace(plan, changes=rows + _folder_moves(plan), obstacles=obstacles)


def _read_list(database: _CoreDatabase, list_id: str) -> tuple[str, str, str, str | None]:
    """``list_name, mail_host, display_name, subject_prefix`` of core's list ``list_id``."""
    row = database.fetchone(
        "SELECT list_name, mail_host, display_name, subject_prefix FROM mailinglist "
        "WHERE list_id = %s",
        (list_id,),
    )
    if row is None:
        raise MailmanCoreError(_("Mailman core has no list %(list)s.") % {"list": list_id})
    return row


def _check_name_free(database: _CoreDatabase, list_id: str, list_name: str, mail_host: str):
    """Raise ``MailmanCoreError`` unless core can call a list ``list_name@mail_host``."""
    taken = database.fetchone(
        "SELECT list_id FROM mailinglist WHERE list_id = %s OR (list_name = %s AND mail_host = %s)",
        (list_id, list_name, mail_host),
    )
    if taken is not None:
        raise MailmanCoreError(_("Mailman core already has a list %(list)s.") % {"list": list_id})
    if database.fetchone("SELECT 1 FROM domain WHERE mail_host = %s", (mail_host,)) is None:
        raise MailmanCoreError(
            _("Mailman core has no domain %(domain)s: create it in core first.")
            % {"domain": mail_host}
        )


def _check_no_leftovers(database: _CoreDatabase, plan: CoreRenamePlan) -> None:
    """Raise ``MailmanCoreError`` if rows already name the new list-id.

    Deleting a list leaves its templates, bounce events and pending
    subscriptions behind; the renamed list would inherit them (two templates
    of one name break core's look-ups), and a revert, which selects rows by the
    new list-id, would take them along. These are the rows the reverse rename
    would select.
    """
    leftovers = [
        f"{update.table}.{shown_columns(update.columns)}: {count}"
        for update in _updates(plan.reversed())[1:]  # [0]: mailinglist, checked already
        if (count := update.count(database))
    ]
    if leftovers:
        raise MailmanCoreError(
            _(
                "Mailman core's database still has rows that name %(list)s, left by a "
                "deleted list (%(rows)s): delete them first, or choose another name."
            )
            % {"list": plan.new_list_id, "rows": "; ".join(leftovers)}
        )


def _has_alias(database: _CoreDatabase, plan: CoreRenamePlan) -> bool:
    """Whether the old posting address is already one of the list's acceptable aliases."""
    return (
        database.fetchone(
            "SELECT 1 FROM acceptablealias a JOIN mailinglist m ON m.id = a.mailing_list_id "
            "WHERE m.list_id = %s AND a.alias = %s",
            (plan.old_list_id, plan.old_posting_address),
        )
        is not None
    )


def _list_ids_present(database: _CoreDatabase, plan: CoreRenamePlan) -> set[str]:
    rows = _rows(
        database,
        "SELECT list_id FROM mailinglist WHERE list_id IN (%s, %s)",
        (plan.old_list_id, plan.new_list_id),
    )
    return {list_id for (list_id,) in rows}


def _rows(database: _CoreDatabase, sql: str, params: tuple) -> list[tuple]:
    cursor = database.connection.cursor()
    cursor.execute(sql.replace("%s", database.placeholder), params)
    return cursor.fetchall()


def _rename_rows(plan: CoreRenamePlan, *, alias: str) -> bool:
    """Rename core's rows as ``plan`` says, in one transaction, unless done; say if it was.

    ``alias``: "add" the old posting address to the acceptable aliases (a
    rename), or "remove" the plan's new one (undoing it), when ``add_alias``.
    """
    database = _connect(plan.db_url)
    try:
        with _database_errors(plan.db_url):
            present = _list_ids_present(database, plan)
            if present == {plan.new_list_id}:
                return False
            if present != {plan.old_list_id}:
                raise MailmanCoreError(
                    _(
                        "Mailman core's database holds %(found)s, where %(old)s or %(new)s "
                        "was expected: fix it by hand."
                    )
                    % {
                        "found": ", ".join(sorted(present)) or _("neither list"),
                        "old": plan.old_list_id,
                        "new": plan.new_list_id,
                    }
                )
            for update in _updates(plan):
                update.run(database)
            if plan.add_alias and alias == "add":
                database.execute(
                    "INSERT INTO acceptablealias (mailing_list_id, alias) "
                    "SELECT id, %s FROM mailinglist WHERE list_id = %s",
                    (plan.old_posting_address, plan.new_list_id),
                )
            elif plan.add_alias and alias == "remove":
                database.execute(
                    "DELETE FROM acceptablealias WHERE alias = %s AND mailing_list_id = "
                    "(SELECT id FROM mailinglist WHERE list_id = %s)",
                    (plan.new_posting_address, plan.new_list_id),
                )
            database.commit()
            return True
    finally:
        database.close()


def rename_core_rows(plan: CoreRenamePlan) -> bool:
    """Rename the list in core's database (rows and acceptable alias), unless it is done."""
    return _rename_rows(plan, alias="add")


def undo_core_rows(plan: CoreRenamePlan) -> bool:
    """Give the list its old name back in core's database, unless it has it."""
    return _rename_rows(plan.reversed(), alias="remove")


def move_folders(moves: tuple[FolderMove, ...]) -> None:
    """Move each folder that is still at its source; a folder at its target is done."""
    for move in moves:
        move_folder(move.source, move.target)


def move_folder(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` (absent or an empty folder), unless it was moved already."""
    if not source.exists():
        return  # moved by an interrupted run, or undone
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if target.exists():
        raise MailmanCoreError(
            _("%(source)s cannot move: %(target)s exists too. Fix it by hand.")
            % {"source": source, "target": target}
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(source, target)


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
        raise MailmanCoreError(
            _("Cannot run %(command)s: %(error)s") % {"command": mailman_bin, "error": error}
        ) from error
    if result.returncode != 0:
        raise MailmanCoreError(
            _("`%(command)s` failed (exit %(code)d): %(output)s")
            % {
                "command": " ".join(command),
                "code": result.returncode,
                "output": (result.stderr or result.stdout).strip(),
            }
        )
    return result.stdout
