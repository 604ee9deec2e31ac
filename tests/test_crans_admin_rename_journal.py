"""rename_list killed at every step boundary: resumed, or rolled back, to the exact same state.

The state is the whole of it: the web database (every table but the journal),
Mailman core's database (real core 3.3.10 on PostgreSQL), core's list folders,
the attachment folder, the search index's documents and the Postfix map of old
addresses. Every run starts from a copy of one prepared state (PostgreSQL
template databases, copied folders) at the same paths, so that the states of
different runs compare exactly.

The rename runs as ``manage.py rename_list`` in a subprocess, paused at a
step boundary by its debugging hook ``CRANS_RENAME_PAUSE_AFTER`` and killed
there with SIGKILL; it is then rolled back and must give the first state, run
again until the same point, killed, and resumed (by the same command, or by
``--resume``) and must give the state of an uninterrupted rename.
"""

from __future__ import annotations

import io
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import haystack
import psycopg2
import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from hyperkitty import search_indexes
from whoosh import index as whoosh_index

from crans_admin.conf import CORE_DB_URL
from crans_admin.models import ListRename
from crans_admin.rename import unfinished_renames
from devstack.core import MailmanCore, SMTPSink
from devstack.postgresql import administer_postgresql, core_database
from devstack.processes import free_port
from tests.fixtures.archives import snapshot_folder, snapshot_without_journal

REPO = Path(__file__).resolve().parent.parent
OLD = "tresorier@lists.crans.org"
NEW = "tresorerie@lists.crans.org"
# Every step boundary: after the journal is written; after each step's change, before
# it is recorded as done (web_rows is changed and recorded in one transaction); after
# each step is recorded.
POINTS = [
    "started",
    "core_rows",
    "core_rows:done",
    "core_folders",
    "core_folders:done",
    "web_rows:done",
    "web_folder",
    "web_folder:done",
    "aliases",
    "aliases:done",
    "search_index",
    "search_index:done",
]
# Core's tables a rename touches, and how to read them: a rolled back alias leaves its
# id behind in the sequence, so aliases are compared without it.
CORE_QUERIES = {
    table: f"SELECT * FROM {table} ORDER BY id"
    for table in ("mailinglist", "member", "ban", "bounceevent", "template", "pendedkeyvalue")
} | {"acceptablealias": "SELECT mailing_list_id, alias FROM acceptablealias ORDER BY alias"}
PAUSE_TIMEOUT = 300  # seconds for Django to start and the rename to reach its pause


@pytest.fixture(scope="module")
def core_template(tmp_path_factory, mailman_core_venv):
    """Core's database and var dir with the list tresorier (a member, an owner, a template)."""
    folder = tmp_path_factory.mktemp("journal-core")
    with core_database() as database_url, SMTPSink(folder / "sent-mail", free_port()) as sink:
        core = MailmanCore(folder / "core", database_url, sink.port, venv=mailman_core_venv)
        with core:
            mlist = core.create_list_with_member(OLD, "alice@crans.org")
            mlist.add_owner("owner@crans.org")
            mlist.set_template(
                "list:member:regular:footer",
                "http://127.0.0.1:9/postorius/api/templates/list/tresorier.lists.crans.org/footer",
            )
        yield core
        core.stop()


class Runs:
    """Copies of one prepared state at fixed paths, and the rename run on them."""

    def __init__(self, tmp_path: Path, web_template: str, core: MailmanCore, settings):
        self.tmp_path = tmp_path
        self.web_template = web_template
        self.core = core
        self.folder = tmp_path / "run"
        self.originals = tmp_path / "originals"
        self.databases: list[str] = []
        self.web_database = ""
        self.core_url = ""
        settings.HYPERKITTY_ATTACHMENT_FOLDER = str(self.attachments)
        self.settings_module = tmp_path / "kill_settings.py"
        self.settings_module.write_text(
            "from crans_mailman_web_settings.test import *  # noqa: F403\n"
            f"HYPERKITTY_ATTACHMENT_FOLDER = {str(self.attachments)!r}\n"
            "HAYSTACK_CONNECTIONS = {'default': {'ENGINE': "
            "'haystack.backends.whoosh_backend.WhooshEngine', "
            f"'PATH': {str(self.index)!r}}}}}\n"
            f"MAILMAN_REST_API_URL = {settings.MAILMAN_REST_API_URL!r}\n"
        )

    @property
    def attachments(self) -> Path:
        return self.folder / "attachments"

    @property
    def index(self) -> Path:
        return self.folder / "fulltext_index"

    @property
    def var_dir(self) -> Path:
        return self.folder / "core-var"

    @property
    def alias_map(self) -> Path:
        return self.folder / "renamed-lists"

    def fresh(self) -> None:
        """A new copy of the prepared state: databases from templates, folders copied."""
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.copytree(self.originals / "attachments", self.attachments)
        shutil.copytree(self.originals / "fulltext_index", self.index)
        shutil.copytree(self.core.var_dir, self.var_dir)
        connection.close()
        suffix = secrets.token_hex(4)
        self.web_database = f"{self.web_template}_{suffix}"
        core_name = self.core.database_url.rsplit("/", 1)[1]
        administer_postgresql(
            f'CREATE DATABASE "{self.web_database}" TEMPLATE "{self.web_template}"'
        )
        administer_postgresql(f'CREATE DATABASE "{core_name}_{suffix}" TEMPLATE "{core_name}"')
        self.databases += [self.web_database, f"{core_name}_{suffix}"]
        self.core_url = f"{self.core.database_url}_{suffix}"

    def drop(self) -> None:
        connection.close()
        for name in self.databases:
            administer_postgresql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def on_copy(self, monkeypatch):
        """Django's connection, haystack and core's URL on the current copy, in this process."""
        connection.close()
        original = connection.settings_dict["NAME"]
        connection.settings_dict["NAME"] = self.web_database
        connections = {
            "default": {
                "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
                "PATH": str(self.index),
            }
        }
        with monkeypatch.context() as patch:
            # haystack's engines read the settings, its connection handler its own copy.
            patch.setattr(django_settings, "HAYSTACK_CONNECTIONS", connections)
            patch.setattr(haystack.connections, "connections_info", connections)
            patch.setattr(search_indexes, "LISTNAME", None)
            patch.setenv(CORE_DB_URL, self.core_url)
            haystack.connections.reload("default")
            try:
                yield
            finally:
                connection.close()
                connection.settings_dict["NAME"] = original
        haystack.connections.reload("default")

    def command(self) -> list[str]:
        return [
            "rename_list",
            OLD,
            NEW,
            "--core-var-dir",
            str(self.var_dir),
            "--alias-map",
            str(self.alias_map),
        ]

    def kill_at(self, point: str) -> None:
        """Run the rename in a subprocess; SIGKILL it when it pauses at ``point``."""
        environment = {
            **{key: value for key, value in os.environ.items() if key != "MAILMAN_WEB_BASE_DIR"},
            "DJANGO_SETTINGS_MODULE": "kill_settings",
            "PYTHONPATH": os.pathsep.join([str(self.tmp_path), str(REPO)]),
            "MAILMAN_WEB_LOCAL_DIR": str(self.tmp_path / "local"),
            "MAILMAN_WEB_DB_NAME": self.web_database,
            CORE_DB_URL: self.core_url,
            "CRANS_RENAME_PAUSE_AFTER": point,
        }
        process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), *self.command()],
            cwd=REPO,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + PAUSE_TIMEOUT
        seen = []
        try:
            while time.monotonic() < deadline:
                ready, _w, _x = select.select([process.stderr], [], [], 1)
                if not ready:
                    continue
                line = process.stderr.readline()
                if not line:  # exited without pausing
                    break
                seen.append(line)
                if line.startswith(f"rename paused after {point} "):
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait()
                    return
            raise AssertionError(
                f"rename_list did not pause at {point}:\n{''.join(seen)}{process.stderr.read()}"
            )
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stderr.close()

    def state(self) -> dict[str, object]:
        """Everything a rename touches (call within :meth:`on_copy`)."""
        documents = whoosh_index.open_dir(str(self.index)).searcher().documents()
        core_db = psycopg2.connect(self.core_url)
        try:
            with core_db.cursor() as cursor:
                core_rows = {}
                for table, query in CORE_QUERIES.items():
                    cursor.execute(query)
                    core_rows[table] = cursor.fetchall()
        finally:
            core_db.close()
        return {
            "web database": snapshot_without_journal(),
            "core database": core_rows,
            "core folders": snapshot_folder(self.var_dir / "lists")
            | {f"templates/{k}": v for k, v in snapshot_folder(self.var_dir / "templates").items()},
            "core list folders": sorted(path.name for path in (self.var_dir / "lists").iterdir()),
            "attachments": snapshot_folder(self.attachments),
            "search index": sorted(
                (document["id"], sorted(document.items())) for document in documents
            ),
            "alias map": self.alias_map.read_text() if self.alias_map.exists() else None,
        }


@pytest.fixture
def runs(transactional_db, archives, core_template, tmp_path, settings, search_index):
    """The prepared state: the archives in a template web database, core's template."""
    settings.MAILMAN_REST_API_URL = f"http://127.0.0.1:{free_port()}"  # core is stopped
    originals = tmp_path / "originals"
    shutil.copytree(Path(settings.HYPERKITTY_ATTACHMENT_FOLDER), originals / "attachments")
    shutil.copytree(search_index, originals / "fulltext_index")
    connection.close()
    web_template = f"{connection.settings_dict['NAME']}_journal"
    administer_postgresql(
        f'CREATE DATABASE "{web_template}" TEMPLATE "{connection.settings_dict["NAME"]}"'
    )
    prepared = Runs(tmp_path, web_template, core_template, settings)
    prepared.databases.append(web_template)
    yield prepared
    prepared.drop()


def differences(expected: dict, found: dict) -> list[str]:
    return [name for name in expected if expected[name] != found[name]]


def journal_of_copy() -> list[tuple[str, list[tuple[str, bool, bool]]]]:
    return [
        (
            rename.state,
            [
                (step.name, step.done_at is not None, step.undone_at is not None)
                for step in rename.steps.all()
            ],
        )
        for rename in ListRename.objects.order_by("pk")
    ]


def test_a_rename_killed_at_any_step_boundary_resumes_or_rolls_back_exactly(runs, monkeypatch):
    began = time.monotonic()
    runs.fresh()
    with runs.on_copy(monkeypatch):
        first = runs.state()
        call_command(*runs.command(), stdout=io.StringIO())
        renamed = runs.state()
        assert journal_of_copy()[0][0] == ListRename.DONE
    assert {
        "web database",
        "core database",
        "core list folders",
        "attachments",
        "search index",
        "alias map",
    } <= set(differences(first, renamed))
    print(f"\nuninterrupted rename, with the copies: {time.monotonic() - began:.1f} s")

    failures = []
    for number, point in enumerate(POINTS):
        began = time.monotonic()
        runs.fresh()
        runs.kill_at(point)
        with runs.on_copy(monkeypatch):
            assert [rename.state for rename in unfinished_renames()] == [ListRename.RUNNING]
            call_command("rename_list", "--rollback", stdout=io.StringIO())
            if differing := differences(first, runs.state()):
                failures.append(f"killed at {point}, rolled back: {differing} differ")
            assert journal_of_copy()[0][0] == ListRename.ROLLED_BACK
        runs.kill_at(point)
        with runs.on_copy(monkeypatch):
            # Another rename of the list is refused while this one is unfinished.
            with pytest.raises(CommandError, match="is unfinished: resume it"):
                call_command("rename_list", OLD, "autre@lists.crans.org", "--dry-run")
            # Half of the points resume with the same command, the others with --resume.
            again = runs.command() if number % 2 else ["rename_list", "--resume"]
            call_command(*again, stdout=io.StringIO())
            if differing := differences(renamed, runs.state()):
                failures.append(f"killed at {point}, resumed: {differing} differ")
            states = [state for state, _steps in journal_of_copy()]
            assert states == [ListRename.ROLLED_BACK, ListRename.DONE]
        print(f"killed at {point}: rolled back, resumed in {time.monotonic() - began:.1f} s")
    assert not failures, "\n".join(failures)
