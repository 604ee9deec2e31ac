"""Mailman core's side of rename_list (crans_admin.rename.mailman_core), on a real core 3.3.10.

A list is given members, owners, a moderator, a ban, a template (URL and file),
a pending subscription, a held message and a bounce, through core's REST API
and LMTP; core is stopped, the list renamed, core started again, and REST must
show everything under the new name and nothing under the old one.
"""

from __future__ import annotations

import contextlib
import email
import io
import os
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.error import HTTPError

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from crans_admin.conf import CORE_DB_URL
from crans_admin.rename import MailmanCoreError, read_db_url
from crans_admin.rename.mailman_core import (
    CONNECT_TIMEOUT,
    CoreRenamePlan,
    FolderMove,
    RowUpdate,
    check_core_stopped,
    move_folders,
    plan_core_rename,
    rename_core_rows,
    run_mailman_aliases,
    undo_core_rows,
)
from devstack.core import MailmanCore, SMTPSink
from devstack.postgresql import core_database
from devstack.processes import free_port, process_status, wait_until
from tests.fixtures.loopback import serving

DOMAIN = "lists.example.org"
OTHER_DOMAIN = "asso.example.org"
OLD = f"tresorier.{DOMAIN}"
NEW = f"tresorerie.{OTHER_DOMAIN}"
NEW_NAMES = {
    "new_list_id": NEW,
    "new_list_name": "tresorerie",
    "new_mail_host": OTHER_DOMAIN,
    "new_display_name": "Trésorerie",
    "new_subject_prefix": "[Trésorerie] ",
}
FOOTER = "list:member:regular:footer"
HEADER_FILE = Path("en") / "list:member:regular:header.txt"
# Core's tables that hold a list by name: they must not mention the old list-id afterwards.
NAMED_COLUMNS = {
    "mailinglist": ("list_id",),
    "member": ("list_id",),
    "ban": ("list_id",),
    "bounceevent": ("list_id",),
    "template": ("context", "uri"),
    "pendedkeyvalue": ("value",),
}
# The bounce runner looks at its queue every 2 minutes by default.
QUICK_BOUNCES = "[runner.bounces]\nsleep_time: 1s\n"
SNAPSHOT_TABLES = (
    *NAMED_COLUMNS,
    "pended",
    "_request",
    "workflowstate",
    "domain",
    "acceptablealias",
)


TEMPLATES_PATH = "/postorius/api/templates/list/"


def template_url(base: str, list_id: str) -> str:
    """A list template's URL, as postorius gives core: the list-id is one segment."""
    return f"{base}{TEMPLATES_PATH}{list_id}/{FOOTER}"


class FooterHandler(BaseHTTPRequestHandler):
    """Answers a template URL with a footer that names the list-id found in the URL."""

    def do_GET(self):
        if not self.path.startswith(TEMPLATES_PATH):
            self.send_error(404)
            return
        body = f"Footer of {self.path.removeprefix(TEMPLATES_PATH).split('/')[0]}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def templates_base():
    """The base URL of a small postorius stand-in that serves list footers to core."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), FooterHandler)) as server:
        yield f"http://127.0.0.1:{server.server_port}"


def query(database_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` (written with ``?``) in core's database, PostgreSQL or SQLite."""
    if database_url.startswith("sqlite:"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    else:
        connection = psycopg2.connect(database_url)
        sql = sql.replace("?", "%s")
    try:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        connection.close()


def decoded(header: str) -> str:
    return str(make_header(decode_header(header)))


def queued_files(core: MailmanCore) -> list[Path]:
    return [path for path in (core.var_dir / "queue").rglob("*") if path.is_file()]


def populate(core: MailmanCore, templates_base: str) -> None:
    """Give the list ``tresorier`` everything core holds by name; ``bureau`` stays aside."""
    client = core.client()
    for domain in (DOMAIN, OTHER_DOMAIN):
        client.create_domain(domain)
    bureau = client.get_domain(DOMAIN).create_list("bureau")
    bureau.subscribe("alice@example.org", pre_verified=True, pre_confirmed=True, pre_approved=True)
    bureau.bans.add("spammer@example.net")
    bureau.set_template(FOOTER, template_url(templates_base, bureau.list_id))
    mlist = client.get_domain(DOMAIN).create_list("tresorier")
    mlist.settings["subscription_policy"] = "moderate"
    mlist.settings.save()
    mlist.add_owner("owner@example.org")
    mlist.add_moderator("moderator@example.org")
    mlist.subscribe(
        "alice@example.org", "Alice", pre_verified=True, pre_confirmed=True, pre_approved=True
    )
    # Waits for the moderators' approval: a pended record with the list-id.
    mlist.subscribe("bob@example.org", "Bob", pre_verified=True, pre_confirmed=True)
    mlist.bans.add("spammer@example.net")
    mlist.set_template(FOOTER, template_url(templates_base, OLD))
    header = core.var_dir / "templates" / "lists" / OLD / HEADER_FILE
    header.parent.mkdir(parents=True)
    header.write_text("Trésorerie du club\n")
    post = EmailMessage()
    post["From"] = "eve@example.com"
    post["To"] = f"tresorier@{DOMAIN}"
    post["Subject"] = "Remboursement"
    post["Message-ID"] = "<held-1@example.com>"
    post.set_content("Bonjour, une question sur le budget.")
    core.post_by_lmtp(post)  # from a non-member: held for moderation
    core.post_by_lmtp(
        email.message_from_bytes(
            b"From: MAILER-DAEMON@example.org\r\n"
            b"To: tresorier-bounces@" + DOMAIN.encode() + b"\r\n"
            b"Subject: Delivery Status Notification (Failure)\r\n"
            b"Message-ID: <bounce-1@example.org>\r\n"
            b"MIME-Version: 1.0\r\n"
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
            b"\r\n--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            b"Reporting-MTA: dns; mx.example.org\r\n\r\n"
            b"Final-Recipient: rfc822; alice@example.org\r\nAction: failed\r\n"
            b"Status: 5.1.1\r\n\r\n--B--\r\n",
            _class=EmailMessage,
        )
    )
    wait_until(lambda: len(mlist.held) == 1, "hold the non-member's message")
    wait_until(
        lambda: query(core.database_url, "SELECT 1 FROM bounceevent WHERE list_id = ?", (OLD,)),
        "record the bounce",
    )
    wait_until(lambda: not queued_files(core), "empty its queues")


@contextlib.contextmanager
def rows_in_core(
    core: MailmanCore, insert: str, values: tuple, delete: str, delete_values: tuple = ()
) -> Iterator[None]:
    """Rows that ``insert`` adds to core's database for the time of the block; ``delete``
    removes them afterwards."""
    connection = psycopg2.connect(core.database_url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(insert, values)
        yield
    finally:
        with connection, connection.cursor() as cursor:
            cursor.execute(delete, delete_values)
        connection.close()


def snapshot(core: MailmanCore) -> dict[str, object]:
    """Every row of core's tables that a rename may touch, and the var dir's list folders."""
    state: dict[str, object] = {
        table: sorted(query(core.database_url, f"SELECT * FROM {table}"), key=repr)
        for table in SNAPSHOT_TABLES
    }
    for folder in ("lists", "templates"):
        root = core.var_dir / folder
        state[folder] = {
            str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
            for path in sorted(root.rglob("*"))
        }
    return state


def mentions_of(core: MailmanCore, list_id: str) -> list[tuple[str, str]]:
    """``(table, column)`` of every row that still names ``list_id``."""
    return [
        (table, column)
        for table, columns in NAMED_COLUMNS.items()
        for column in columns
        for _row in query(
            core.database_url,
            f"SELECT {column} FROM {table} WHERE {column} LIKE ?",
            (f"%{list_id}%",),
        )
    ]


def rows_of_old_list(core: MailmanCore, table: str) -> int:
    return query(core.database_url, f"SELECT COUNT(*) FROM {table} WHERE list_id = ?", (OLD,))[0][0]


def plan(core: MailmanCore, **options) -> CoreRenamePlan:
    return plan_core_rename(
        core.database_url, core.var_dir, old_list_id=OLD, **{**NEW_NAMES, **options}
    )


def rename(renaming: CoreRenamePlan) -> None:
    """Both steps of core's side: the rows, then the folders."""
    assert rename_core_rows(renaming)
    move_folders(renaming.folder_moves)


def undo(renaming: CoreRenamePlan) -> None:
    move_folders(renaming.reversed().folder_moves)
    assert undo_core_rows(renaming)


# The whole rename, on PostgreSQL (as at Crans) and on SQLite (small sites, the demo).


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_rename_carries_everything_to_the_new_name(
    request, database, make_mailman_core, smtp_sink, templates_base, tmp_path
):
    if database == "postgresql":
        database_url = request.getfixturevalue("core_database_url")
    else:
        database_url = f"sqlite:///{tmp_path}/mailman.db"
    began = time.monotonic()
    core = make_mailman_core(database_url, extra_config=QUICK_BOUNCES)
    print(f"\ncore {database}: first start {time.monotonic() - began:.1f} s")
    populate(core, templates_base)
    client = core.client()
    old_list = client.get_list(OLD)
    token = old_list.requests[0]["token"]
    held_id = old_list.held[0].request_id
    bureau_before = {
        key: value for key, value in snapshot(core).items() if key in ("ban", "template")
    }
    core.stop()

    began = time.monotonic()
    rename(plan(core, rest_url=core.rest_url))
    print(f"\ncore rename on {database}: {time.monotonic() - began:.3f} s")

    assert not (core.var_dir / "lists" / OLD).exists()
    assert (core.var_dir / "lists" / NEW).is_dir()
    assert (core.var_dir / "templates" / "lists" / NEW / HEADER_FILE).read_text() == (
        "Trésorerie du club\n"
    )
    assert mentions_of(core, OLD) == []
    names = "SELECT list_name, mail_host, display_name FROM mailinglist WHERE list_id = ?"
    assert query(core.database_url, names, (NEW,)) == [("tresorerie", OTHER_DOMAIN, "Trésorerie")]
    assert query(core.database_url, "SELECT email FROM bounceevent WHERE list_id = ?", (NEW,)) == [
        ("alice@example.org",)
    ]
    # The other list did not move.
    bureau_after = {
        key: value for key, value in snapshot(core).items() if key in ("ban", "template")
    }
    assert [row for row in bureau_after["ban"] if f"bureau.{DOMAIN}" in row] == [
        row for row in bureau_before["ban"] if f"bureau.{DOMAIN}" in row
    ]
    output = run_mailman_aliases(core.mailman_bin, core.config_file)
    assert f"tresorerie@{OTHER_DOMAIN}" in (core.var_dir / "data" / "postfix_lmtp").read_text()
    assert f"tresorier@{DOMAIN}" not in (core.var_dir / "data" / "postfix_lmtp").read_text()
    assert "Traceback" not in output

    print(f"core {database}: restart after the rename {core.start():.1f} s")
    with pytest.raises(HTTPError) as missing:
        client.get_list(OLD)
    assert missing.value.code == 404
    renamed_list = client.get_list(NEW)
    assert renamed_list.list_name == "tresorerie"
    assert renamed_list.mail_host == OTHER_DOMAIN
    assert renamed_list.fqdn_listname == f"tresorerie@{OTHER_DOMAIN}"
    assert renamed_list.display_name == "Trésorerie"
    assert renamed_list.settings["subject_prefix"] == "[Trésorerie] "
    assert [member.email for member in renamed_list.members] == ["alice@example.org"]
    assert [owner.email for owner in renamed_list.owners] == ["owner@example.org"]
    assert [moderator.email for moderator in renamed_list.moderators] == ["moderator@example.org"]
    assert [ban.email for ban in renamed_list.bans] == ["spammer@example.net"]
    # Replies to old threads, sent to the old address, are not held.
    assert renamed_list.settings["acceptable_aliases"] == [f"tresorier@{DOMAIN}"]
    assert [(template.name, template.uri) for template in renamed_list.templates] == [
        (FOOTER, template_url(templates_base, NEW))
    ]
    assert [ban.email for ban in client.get_list(f"bureau.{DOMAIN}").bans] == [
        "spammer@example.net"
    ]
    # The pending subscription and the held message are the new list's, and work.
    assert [pending["email"] for pending in renamed_list.requests] == ["bob@example.org"]
    renamed_list.moderate_request(token, "accept")
    assert sorted(member.email for member in client.get_list(NEW).members) == [
        "alice@example.org",
        "bob@example.org",
    ]
    assert [held.sender for held in renamed_list.held] == ["eve@example.com"]
    renamed_list.accept_message(held_id)
    delivered = wait_until(
        lambda: [
            message
            for message in smtp_sink.messages()
            if message["Message-ID"] == "<held-1@example.com>"
        ],
        "deliver the approved message",
    )
    recipients = {address for message in delivered for address in message["X-RcptTo"].split(", ")}
    assert recipients == {"alice@example.org", "bob@example.org"}
    assert f"<{NEW}>" in delivered[0]["List-Id"]
    assert decoded(delivered[0]["Subject"]) == "[Trésorerie] Remboursement"
    # Core fetched the list's footer at its renamed URL.
    assert f"Footer of {NEW}" in delivered[0].get_payload(decode=True).decode()


# Checks and refusals, on one list made once and left as it was by every test.


@pytest.fixture(scope="module")
def stopped_core(tmp_path_factory, mailman_core_venv, templates_base):
    """A populated Mailman core on PostgreSQL, stopped."""
    folder = tmp_path_factory.mktemp("rename-core")
    with core_database() as database_url, SMTPSink(folder / "sent-mail", free_port()) as sink:
        core = MailmanCore(
            folder / "core",
            database_url,
            sink.port,
            venv=mailman_core_venv,
            extra_config=QUICK_BOUNCES,
        )
        core.write_config()
        core.start()
        try:
            populate(core, templates_base)
        finally:
            core.stop()
        yield core
        core.stop()


def test_a_running_core_is_refused(stopped_core):
    core = stopped_core
    core.start()
    try:
        with pytest.raises(MailmanCoreError, match="REST API answers at"):
            plan(core, rest_url=core.rest_url)
        with pytest.raises(MailmanCoreError, match="master.pid exists"):
            plan(core)
        # A dry run changes nothing: it plans, and says what the real run requires.
        preview = plan(core, rest_url=core.rest_url, preview=True)
    finally:
        core.stop()
    assert preview.old_list_id == OLD
    assert [obstacle.split(":")[0] for obstacle in preview.obstacles] == [
        "Mailman core is running",
        "Mailman core seems to be running",
    ]
    stopped = plan(core, rest_url=core.rest_url)
    assert stopped.changes == preview.changes
    assert stopped.obstacles == ()


def test_a_running_core_is_renamed_with_force_only(stopped_core):
    core = stopped_core
    core.start()
    try:
        assert plan(core, rest_url=core.rest_url, check_stopped=False).new_list_id == NEW
    finally:
        core.stop()


def test_queued_messages_of_the_list_are_refused_unless_forced(stopped_core, tmp_path):
    core = stopped_core
    post = tmp_path / "post.eml"
    post.write_text(f"From: alice@example.org\nTo: tresorier@{DOMAIN}\nSubject: queued\n\nHi\n")
    other = core.mailman("inject", "-q", "in", "-f", str(post), f"bureau@{DOMAIN}")
    assert other.returncode == 0, other.stdout
    try:
        assert plan(core).old_list_id == OLD  # another list's queued message is no obstacle
        injected = core.mailman("inject", "-q", "in", "-f", str(post), f"tresorier@{DOMAIN}")
        assert injected.returncode == 0, injected.stdout
        with pytest.raises(MailmanCoreError) as refused:
            plan(core)
        assert "1 queued file(s) for tresorier.lists.example.org" in str(refused.value)
        assert "queue/in/" in str(refused.value)
        assert plan(core, check_stopped=False).old_list_id == OLD
    finally:
        for path in queued_files(core):
            path.unlink()


@pytest.mark.parametrize(
    "scheme", ["postgres://", "postgresql://", "postgresql+psycopg2://"], ids=str
)
def test_dry_run_counts_every_change_and_changes_nothing(stopped_core, scheme):
    core = stopped_core
    before = snapshot(core)
    url = core.database_url.replace("postgresql://", scheme)
    renaming = plan_core_rename(url, core.var_dir, old_list_id=OLD, **NEW_NAMES)

    rows = {
        (change.table, change.columns): change.rows
        for change in renaming.changes
        if isinstance(change, RowUpdate)
    }
    assert rows == {
        ("mailinglist", "list_name, mail_host, list_id, display_name, subject_prefix"): 1,
        ("member", "list_id"): rows_of_old_list(core, "member"),
        ("ban", "list_id"): 1,
        ("bounceevent", "list_id"): rows_of_old_list(core, "bounceevent"),
        ("template", "uri"): 1,
        ("template", "context"): 1,
        ("pendedkeyvalue", "value of list_id, _mod_listid, listid"): 4,
    }
    # owner, moderator, alice, and eve as a non-member after her post
    assert rows[("member", "list_id")] == 4
    assert rows[("bounceevent", "list_id")] >= 1
    assert [change for change in renaming.changes if isinstance(change, FolderMove)] == [
        FolderMove(core.var_dir / "lists" / OLD, core.var_dir / "lists" / NEW),
        FolderMove(
            core.var_dir / "templates" / "lists" / OLD, core.var_dir / "templates" / "lists" / NEW
        ),
    ]
    lines = renaming.describe()
    assert lines[0] == (
        f"list {OLD} -> {NEW} (list_name 'tresorerie', mail_host '{OTHER_DOMAIN}', "
        "display_name 'Trésorerie')"
    )
    assert "subject_prefix '[Tresorier] ' -> '[Trésorerie] '" in lines
    assert "table member (list_id): 4 row(s)" in lines
    assert f"folder {core.var_dir / 'lists' / OLD} -> {core.var_dir / 'lists' / NEW}" in lines
    # In French, every line is.
    with translation.override("fr"):
        french = renaming.describe()
    assert [line for line, english in zip(french, lines, strict=True) if line == english] == []
    assert "table pendedkeyvalue (valeur de list_id, _mod_listid, listid) : 4 ligne(s)" in french
    assert snapshot(core) == before


def test_a_custom_subject_prefix_is_kept(stopped_core):
    core = stopped_core
    query_url = core.database_url
    connection = psycopg2.connect(query_url)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mailinglist SET subject_prefix = '[Sous] ' WHERE list_id = %s", (OLD,)
        )
    try:
        renaming = plan(core)
        assert renaming.new_subject_prefix is None
        assert "subject_prefix '[Sous] ' kept" in renaming.describe()
        assert ("mailinglist", "list_name, mail_host, list_id, display_name") in [
            (change.table, change.columns)
            for change in renaming.changes
            if isinstance(change, RowUpdate)
        ]
    finally:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "UPDATE mailinglist SET subject_prefix = '[Tresorier] ' WHERE list_id = %s", (OLD,)
            )
        connection.close()


def test_each_step_twice_is_once_and_undo_restores_everything(stopped_core):
    core = stopped_core
    before = snapshot(core)
    renaming = plan(core)
    rename(renaming)
    renamed = snapshot(core)
    assert renamed != before
    assert mentions_of(core, OLD) == []
    # Run again (a resumed rename): nothing more changes.
    assert not rename_core_rows(renaming)
    move_folders(renaming.folder_moves)
    assert snapshot(core) == renamed
    undo(renaming)
    assert snapshot(core) == before
    # Undone again (a resumed rollback): nothing more changes.
    assert not undo_core_rows(renaming)
    move_folders(renaming.reversed().folder_moves)
    assert snapshot(core) == before


def test_an_alias_already_there_is_kept_by_the_undo(stopped_core):
    core = stopped_core
    with rows_in_core(
        core,
        "INSERT INTO acceptablealias (mailing_list_id, alias) "
        "SELECT id, %s FROM mailinglist WHERE list_id = %s",
        (f"tresorier@{DOMAIN}", OLD),
        "DELETE FROM acceptablealias",
    ):
        before = snapshot(core)
        renaming = plan(core)
        assert not renaming.add_alias
        rename(renaming)
        undo(renaming)
        assert snapshot(core) == before


def test_a_taken_folder_stops_the_move_clearly(stopped_core):
    core = stopped_core
    renaming = plan(core)
    # Something takes the new template folder between the plan and the move.
    blocker = core.var_dir / "templates" / "lists" / NEW / "en" / "stray.txt"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("taken")
    try:
        with pytest.raises(MailmanCoreError, match="cannot move: .* exists too"):
            move_folders(renaming.folder_moves)
    finally:
        shutil.rmtree(core.var_dir / "templates" / "lists" / NEW)
        move_folders(renaming.reversed().folder_moves)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            {"new_list_id": f"bureau.{DOMAIN}", "new_list_name": "bureau", "new_mail_host": DOMAIN},
            f"Mailman core already has a list bureau.{DOMAIN}",
        ),
        (
            {"new_list_id": "tresorerie.nowhere.example", "new_mail_host": "nowhere.example"},
            "Mailman core has no domain nowhere.example",
        ),
        (
            {"new_list_id": f"autre.{OTHER_DOMAIN}"},
            f"List-id autre.{OTHER_DOMAIN} does not match tresorerie@{OTHER_DOMAIN}",
        ),
        (
            {"new_list_id": OLD, "new_list_name": "tresorier", "new_mail_host": DOMAIN},
            f"The list {OLD} already has this name",
        ),
    ],
)
def test_names_that_cannot_be_used_are_refused(stopped_core, names, message):
    core = stopped_core
    before = snapshot(core)
    with pytest.raises(MailmanCoreError, match=message):
        plan(core, **names)
    with pytest.raises(MailmanCoreError, match=f"Mailman core has no list absent.{DOMAIN}"):
        plan_core_rename(
            core.database_url, core.var_dir, old_list_id=f"absent.{DOMAIN}", **NEW_NAMES
        )
    assert snapshot(core) == before


def test_rows_left_by_a_deleted_list_of_the_new_name_are_refused(stopped_core):
    core = stopped_core
    with rows_in_core(
        core,
        "INSERT INTO template (name, context, uri) VALUES (%s, %s, %s)",
        (FOOTER, NEW, "http://127.0.0.1:9/old-footer"),
        "DELETE FROM template WHERE context = %s",
        (NEW,),
    ):
        with pytest.raises(
            MailmanCoreError, match=r"still has rows that name .*template.context: 1"
        ):
            plan(core)
    assert plan(core).old_list_id == OLD


def test_a_taken_folder_is_refused(stopped_core):
    core = stopped_core
    taken = core.var_dir / "lists" / NEW
    taken.mkdir()
    try:
        with pytest.raises(MailmanCoreError, match=f"folder {taken} already exists"):
            plan(core)
    finally:
        taken.rmdir()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", r"Invalid Mailman core database URL \(a URL that cannot be read\)"),
        ("mysql://mailman:secret@127.0.0.1/mailman", "Invalid Mailman core database URL"),
        ("postgresql://mailman:secret@127.0.0.1:5432", "Invalid Mailman core database URL"),
        ("sqlite:///relative/mailman.db", "Invalid Mailman core database URL"),
        ("sqlite:////nonexistent/mailman.db", "Cannot open Mailman core's database"),
        ("postgresql://mailman:secret@127.0.0.1:1/mailman", "Cannot open Mailman core's database"),
    ],
)
def test_a_bad_database_url_is_refused_clearly(var_dir, url, message):
    with pytest.raises(MailmanCoreError, match=message) as refused:
        plan_core_rename(url, var_dir, old_list_id=OLD, **NEW_NAMES)
    assert "secret" not in str(refused.value)


def test_a_database_that_is_not_cores_is_refused(var_dir, tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    with pytest.raises(MailmanCoreError, match="is it Mailman core's database"):
        plan_core_rename(f"sqlite:///{other}", var_dir, old_list_id=OLD, **NEW_NAMES)


@pytest.fixture
def var_dir(tmp_path) -> Path:
    """A folder that looks like core's var dir."""
    folder = tmp_path / "var"
    for name in ("lists", "queue"):
        (folder / name).mkdir(parents=True)
    return folder


def test_a_master_left_by_a_killed_core_does_not_count(var_dir):
    """A core killed (not stopped) leaves master.pid and its lock: their process is gone."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    (var_dir / "master.pid").write_text(f"{gone.pid}\n")
    (var_dir / "locks").mkdir()
    lock = var_dir / "locks" / "master.lck"
    lock.write_text(f"{lock}|{socket.getfqdn()}|{gone.pid}|1234")
    check_core_stopped(var_dir, None)
    # Killed, not reaped yet: a zombie.
    zombie = subprocess.Popen(["true"])
    wait_until(lambda: process_status(zombie.pid)[0] == "Z", "the process becomes a zombie")
    (var_dir / "master.pid").write_text(f"{zombie.pid}\n")
    check_core_stopped(var_dir, None)
    zombie.wait()
    lock.write_text(f"{lock}|{socket.getfqdn()}|{os.getpid()}|1234")
    with pytest.raises(MailmanCoreError, match="master.lck exists"):
        check_core_stopped(var_dir, None)
    lock.write_text(f"{lock}|another-host.example.org|{gone.pid}|1234")
    with pytest.raises(MailmanCoreError, match="master.lck exists"):
        check_core_stopped(var_dir, None)


@pytest.mark.parametrize("typo", ["absent", "not-core"])
def test_a_var_dir_that_is_not_cores_is_refused(tmp_path, typo):
    """CRANS_MAILMAN_CORE_VAR_DIR with a typo: refused before anything is planned."""
    (tmp_path / "not-core").mkdir()
    with pytest.raises(MailmanCoreError, match="not a folder|does not look like"):
        plan_core_rename(
            "postgresql://mailman@127.0.0.1:1/mailman",
            tmp_path / typo,
            old_list_id=OLD,
            **NEW_NAMES,
        )


def test_a_database_that_never_answers_times_out(var_dir):
    """A host that accepts the connection and says nothing: connect_timeout, not a hang."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    began = time.monotonic()
    try:
        with pytest.raises(MailmanCoreError, match="Cannot open Mailman core's database"):
            plan_core_rename(
                f"postgresql://mailman:secret@127.0.0.1:{port}/mailman",
                var_dir,
                old_list_id=OLD,
                **NEW_NAMES,
            )
    finally:
        silent.close()
    assert time.monotonic() - began < CONNECT_TIMEOUT + 5


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("postgresql://mailman:s3cret@db/mailman3\n", "postgresql://mailman:s3cret@db/mailman3"),
        (
            "[mailman]\nlayout: debian\n[database]\nclass: mailman.database.postgresql."
            "PostgreSQLDatabase\nurl: postgres://mailman:s3cret@db/mailman3\n",
            "postgres://mailman:s3cret@db/mailman3",
        ),
    ],
    ids=["url", "mailman.cfg"],
)
def test_the_database_url_is_read_from_a_file(tmp_path, text, url):
    path = tmp_path / "core-db"
    path.write_text(text)
    assert read_db_url(path) == url
    with pytest.raises(MailmanCoreError, match="Cannot read"):
        read_db_url(tmp_path / "absent")


def test_mailman_aliases_failure_is_reported(tmp_path):
    with pytest.raises(MailmanCoreError, match="Cannot run"):
        run_mailman_aliases(str(tmp_path / "no-mailman"))


# Both sides at once: the rename_list command with --core-db and --core-var-dir.


@pytest.mark.django_db
def test_rename_list_command_renames_core_and_web(
    archives, mailman_core, templates_base, settings, monkeypatch
):
    from hyperkitty.models import MailingList

    core = mailman_core
    settings.MAILMAN_REST_API_URL = core.rest_url
    settings.MAILMAN_REST_API_PASS = core.admin_pass
    client = core.client()
    mlist = core.create_list_with_member("tresorier@lists.crans.org", "alice@crans.org")
    mlist.set_template(FOOTER, template_url(templates_base, "tresorier.lists.crans.org"))
    # A web-only rename asks core first, and refuses while core serves the old name.
    with pytest.raises(CommandError, match="core still serves tresorier.lists.crans.org"):
        call_command("rename_list", "tresorier@lists.crans.org", "tresorerie@lists.crans.org")
    # The URL comes from the environment: it never shows in /proc/PID/cmdline.
    monkeypatch.setenv(CORE_DB_URL, core.database_url)
    with pytest.raises(CommandError, match="REST API answers"):
        call_command(
            "rename_list",
            "tresorier@lists.crans.org",
            "tresorerie@lists.crans.org",
            core_var_dir=core.var_dir,
        )
    # A dry run changes nothing: it runs while core does, and says what the real run requires.
    preview = io.StringIO()
    call_command(
        "rename_list",
        "tresorier@lists.crans.org",
        "tresorerie@lists.crans.org",
        core_var_dir=core.var_dir,
        dry_run=True,
        stdout=preview,
    )
    shown = preview.getvalue()
    assert "Mailman core: list tresorier.lists.crans.org -> tresorerie.lists.crans.org" in shown
    assert (
        f"Before the real run: Mailman core is running: its REST API answers at {core.rest_url}"
        in (shown)
    )
    assert "Before the real run: Mailman core seems to be running: " in shown
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == "tresorier@lists.crans.org"
    assert client.get_list("tresorier.lists.crans.org").list_name == "tresorier"
    core.stop()
    # `mailman aliases` (--mailman-bin) finds core's configuration as Mailman does.
    monkeypatch.setenv("MAILMAN_CONFIG_FILE", str(core.config_file))
    call_command(
        "rename_list",
        "tresorier@lists.crans.org",
        "tresorerie@lists.crans.org",
        display_name="Trésorerie",
        core_var_dir=core.var_dir,
        mailman_bin=str(core.mailman_bin),
        verbosity=0,
    )

    web = MailingList.objects.get(pk=archives.tresorier.pk)
    assert (web.name, web.list_id) == ("tresorerie@lists.crans.org", "tresorerie.lists.crans.org")
    assert "tresorerie@lists.crans.org" in (core.var_dir / "data" / "postfix_lmtp").read_text()
    core.start()
    with pytest.raises(HTTPError):
        client.get_list("tresorier.lists.crans.org")
    renamed = client.get_list("tresorerie.lists.crans.org")
    assert (renamed.list_name, renamed.display_name) == ("tresorerie", "Trésorerie")
    assert [member.email for member in renamed.members] == ["alice@crans.org"]
    assert [template.uri for template in renamed.templates] == [
        template_url(templates_base, "tresorerie.lists.crans.org")
    ]
    # Renaming back on the web side only: refused, about the name core serves now.
    with pytest.raises(CommandError, match="core still serves tresorerie.lists.crans.org"):
        call_command("rename_list", "tresorerie@lists.crans.org", "tresorier@lists.crans.org")
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == "tresorerie@lists.crans.org"
