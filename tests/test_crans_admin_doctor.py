"""crans_doctor against a real stack: all ok when healthy, then each fault found with its fix.

The stack is the demo's (devstack/demo.py), started once for the module on free
ports: an SMTP sink, Mailman core 3.3.10 on its own PostgreSQL database (its
archiver posting to mailman-web), the CAS server, the task queue (qcluster)
and mailman-web itself in a thread of this process, on the test database;
static files collected and compressed offline by ``manage.py`` as on a
server. Two lists are created in core and some of the demo messages archived
through core's LMTP and archiver, then indexed. Each fault test injects one
fault for real (a stopped server, a changed key or file), runs the checks and
restores what it changed. The data is committed (the archiver runs in other
threads and processes) and flushed at the end of the module. pytest-django
creates the test database for the tests that ask for ``db``: a selection
(``-k``) of stack tests alone must include ``test_missing_site``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from io import StringIO
from pathlib import Path

import haystack
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django_mailman3.models import MailDomain
from hyperkitty.lib.incoming import add_to_list
from hyperkitty.models import Email, MailingList
from pytest_django.live_server_helper import LiveServer

from crans_admin.conf import DEFAULTS
from crans_admin.doctor import CHECKS, Check, Report, Status, run_checks
from crans_admin.doctor.files import template_files
from crans_admin.models import ListRename
from devstack.cas_server import CasServer
from devstack.core import MailmanCore, SMTPSink
from devstack.demo import (
    LISTS,
    MAIL_DOMAIN,
    REPO,
    bare_id,
    create_lists,
    demo_messages,
    index_archives,
    post_messages,
    set_site,
    start_core,
    start_task_queue,
    wait_until_archived,
)
from devstack.postgresql import core_database
from devstack.processes import free_port, stop_process
from devstack.search_index import ENGINES
from tests.fixtures.archives import haystack_connections, index_list, message
from tests.test_crans_admin_translations import compare_with_catalog

# Demo messages archived per list: enough for threads, an index, drift.
MESSAGES_PER_LIST = 3
# What a healthy stack may take to be checked (measured: about 1.5 s here).
HEALTHY_SECONDS = 10


@dataclass
class Stack:
    folder: Path
    site: str
    core: MailmanCore
    cas: CasServer
    sink: SMTPSink
    tasks_env: dict[str, str]
    tasks: subprocess.Popen
    index: Path
    static: Path


def prepare_static(folder: Path) -> Path:
    """Collect and compress the static files offline with manage.py, as on a server."""
    environment = {
        **{key: value for key, value in os.environ.items() if key != "MAILMAN_WEB_BASE_DIR"},
        "DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.local",
        "MAILMAN_WEB_LOCAL_DIR": str(folder),
    }
    for command in (["collectstatic", "--noinput"], ["compress"]):
        subprocess.run(
            [sys.executable, str(REPO / "manage.py"), *command, "-v", "0"],
            cwd=REPO,
            env=environment,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return folder / "static"


def archive_demo_messages(core: MailmanCore) -> None:
    """Post a few demo messages of each list through core; wait until hyperkitty has them."""
    messages: list[EmailMessage] = []
    for demo_list in LISTS:
        messages += [m for m in demo_messages() if m["To"] == demo_list.address][:MESSAGES_PER_LIST]
    post_messages(core, messages)
    wait_until_archived([bare_id(message) for message in messages], logs=[core.log_file])


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, mailman_core_venv, tmp_path_factory):
    folder = tmp_path_factory.mktemp("doctor")
    with django_db_blocker.unblock(), ExitStack() as running:
        running.callback(call_command, "flush", interactive=False, verbosity=0)
        server = LiveServer("127.0.0.1:0")
        running.callback(server.stop)
        site = server.url
        sink = running.enter_context(SMTPSink(folder / "sent-mail", free_port()))
        core = MailmanCore(
            folder / "core",
            running.enter_context(core_database()),
            sink.port,
            archiver_base_url=f"{site}/archives/",
            archiver_key=settings.MAILMAN_ARCHIVER_KEY,
            venv=mailman_core_venv,
        )
        running.callback(core.stop)
        cas = CasServer(folder / "cas")
        running.callback(cas.stop)
        with ThreadPoolExecutor(max_workers=2) as pool:
            core_started = pool.submit(start_core, core)
            static_prepared = pool.submit(prepare_static, folder / "web")
            cas.start()
            core_started.result()
            static = static_prepared.result()
        index = folder / "fulltext_index"
        search_connections = {"default": {"ENGINE": ENGINES["whoosh"], "PATH": str(index)}}
        # The task queue must read the tasks this process signs: the same
        # SECRET_KEY (settings.local keeps it in its folder).
        (folder / "tasks" / "secrets").mkdir(parents=True)
        shutil.copy(
            Path(settings.LOCAL_DIR) / "secrets" / "secret_key", folder / "tasks" / "secrets"
        )
        overrides = override_settings(
            MAILMAN_REST_API_URL=core.rest_url,
            MAILMAN_REST_API_PASS=core.admin_pass,
            CRANS_MAILMAN_HYPERKITTY_CFG=str(core.folder / "hyperkitty.cfg"),
            SOCIALACCOUNT_PROVIDERS={"crans": {"SERVER_URL": cas.url}},
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=sink.port,
            STATIC_ROOT=str(static),
            COMPRESS_ROOT=str(static),
            COMPRESS_ENABLED=True,
            COMPRESS_OFFLINE=True,
            HAYSTACK_CONNECTIONS=search_connections,
            # As in production behind Crans' reverse proxy (README).
            SESSION_COOKIE_SECURE=True,
            CSRF_COOKIE_SECURE=True,
            # The test CAS server answers plain http on the loopback, and the
            # embedded default's secret key has 43 characters, not 50.
            SILENCED_SYSTEM_CHECKS=[
                "security.W004",
                "security.W008",
                "allauth_cas_crans.W002",
                "security.W009",
            ],
        )
        overrides.enable()
        running.callback(overrides.disable)
        running.enter_context(haystack_connections(search_connections))
        tasks_env = {
            **{key: value for key, value in os.environ.items() if key != "MAILMAN_WEB_BASE_DIR"},
            "DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.test",
            "MAILMAN_WEB_DB_NAME": connection.settings_dict["NAME"],
            "MAILMAN_WEB_LOCAL_DIR": str(folder / "tasks"),
            "MAILMAN_REST_API_URL": core.rest_url,
            "MAILMAN_REST_API_PASS": core.admin_pass,
        }
        the_stack = Stack(
            folder=folder,
            site=site,
            core=core,
            cas=cas,
            sink=sink,
            tasks_env=tasks_env,
            tasks=start_task_queue(tasks_env, folder / "qcluster.log"),
            index=index,
            static=static,
        )
        running.callback(lambda: stop_process(the_stack.tasks))
        set_site(site.removeprefix("http://"))
        MailDomain.objects.create(site=Site.objects.get_current(), mail_domain=MAIL_DOMAIN)
        create_lists(core.client())
        archive_demo_messages(core)
        index_archives()
        yield the_stack


def describe(report: Report) -> str:
    return "\n".join(
        f"{result.name}: {result.status.key}: {result.finding.seen} {result.finding.details} "
        f"-> {result.finding.fix}"
        for result in report.results
    )


def check(name: str) -> Report:
    """Run the check ``name`` alone."""
    return run_checks([name])


def assert_found(report: Report, status: Status, seen: str, fix: str) -> None:
    """The only check of ``report`` has ``status``, ``seen`` in what it saw, ``fix`` in its fix."""
    (result,) = report.results
    finding = result.finding
    text = " ".join((finding.seen, *finding.details))
    assert (result.status, seen in text, fix in finding.fix) == (status, True, True), describe(
        report
    )


def test_a_healthy_stack_is_all_ok_within_seconds(stack):
    report = run_checks()

    assert [result.name for result in report.results] == list(CHECKS)
    assert report.status == Status.OK, describe(report)
    assert report.seconds < HEALTHY_SECONDS, describe(report)
    print(f"\nHealthy stack checked in {report.seconds:.2f} s:")
    for result in report.results:
        print(f"  {result.name}: {result.seconds:.2f} s")


def test_the_command_exits_0_and_prints_every_check(stack):
    output = StringIO()

    call_command("crans_doctor", stdout=output)

    lines = output.getvalue().splitlines()
    assert [line.split()[1] for line in lines[:-1]] == list(CHECKS)
    assert all(line.startswith("OK") for line in lines[:-1]), output.getvalue()
    assert lines[-1].startswith(f"{len(CHECKS)} check(s) in ")


def test_core_stopped(stack):
    stack.core.stop()
    try:
        report = run_checks(["core", "lists"])
    finally:
        # On a loaded machine `mailman stop` may end with SIGKILL, leaving core's lock.
        stack.core.start(force=True)

    for result in report.results:
        assert result.status == Status.ERROR, describe(report)
        assert "Connection refused" in result.finding.seen
        assert "Start Mailman core" in result.finding.fix


def test_wrong_rest_password(stack, settings):
    settings.MAILMAN_REST_API_PASS = "not-the-password"

    assert_found(check("core"), Status.ERROR, "HTTP 401", "MAILMAN_REST_API_PASS")


def test_wrong_archiver_key(stack):
    cfg = Path(settings.CRANS_MAILMAN_HYPERKITTY_CFG)
    original = cfg.read_text()
    cfg.write_text(original.replace(settings.MAILMAN_ARCHIVER_KEY, "another-key"))
    try:
        report = check("archiver")
    finally:
        cfg.write_text(original)

    assert_found(report, Status.ERROR, "refuses core's key (HTTP 401)", "MAILMAN_ARCHIVER_KEY")
    assert "differs from MAILMAN_ARCHIVER_KEY" in report.results[0].finding.seen


def test_archiver_address_not_allowed(stack, settings):
    settings.MAILMAN_ARCHIVER_FROM = ("192.0.2.1",)

    assert_found(check("archiver"), Status.ERROR, "HTTP 403", "to MAILMAN_ARCHIVER_FROM")


def test_site_domain_not_allowed(stack):
    site = Site.objects.get_current()
    Site.objects.filter(pk=site.pk).update(domain="lists.example.org")
    Site.objects.clear_cache()
    try:
        report = check("site")
    finally:
        Site.objects.filter(pk=site.pk).update(domain=site.domain)
        Site.objects.clear_cache()

    assert_found(
        report, Status.ERROR, "'lists.example.org' is not in ALLOWED_HOSTS", "to ALLOWED_HOSTS"
    )


def test_template_changed_after_compress(stack):
    template = template_files()["hyperkitty/base.html"]
    compressed = stack.static / "CACHE" / "manifest.json"
    before = template.stat()
    os.utime(template, (before.st_atime, compressed.stat().st_mtime + 1))
    try:
        report = check("compress")
    finally:
        os.utime(template, ns=(before.st_atime_ns, before.st_mtime_ns))

    assert_found(report, Status.ERROR, "hyperkitty/base.html", "mailman-web compress")


def test_catalogues_missing(stack):
    import postorius

    compiled = Path(postorius.__file__).parent / "locale" / "fr" / "LC_MESSAGES" / "django.mo"
    moved = compiled.with_name("django.mo.moved")
    compiled.rename(moved)
    try:
        report = check("translations")
    finally:
        moved.rename(compiled)

    assert_found(report, Status.ERROR, "postorius: fr/django.po", "compilemessages")


def test_index_deleted(stack):
    moved = stack.index.with_name("moved_index")
    stack.index.rename(moved)
    try:
        report = check("search")
    finally:
        moved.rename(stack.index)

    assert_found(report, Status.ERROR, f"no search index at {stack.index}", "rebuild_index")


def test_index_missing_one_list(stack):
    latest = Email.objects.latest("archived_date").mailinglist.name
    drifting = next(demo_list.address for demo_list in LISTS if demo_list.address != latest)
    backend = haystack.connections["default"].get_backend()
    for email in Email.objects.filter(mailinglist__name=drifting):
        backend.remove(email)
    try:
        report = check("search")
    finally:
        index_list(drifting)

    assert_found(
        report,
        Status.ERROR,
        f"{drifting}: 0 of {MESSAGES_PER_LIST} emails in the index; mailman-web "
        f"update_index_one_list {drifting}",
        "update_index_one_list",
    )
    assert len(report.results[0].finding.details) == 1
    assert check("search").status == Status.OK


@pytest.mark.parametrize("search_index", ["whoosh", "xapian"], indirect=True)
def test_search_check_on_both_engines(archives, search_index):
    """The check's own function in this thread: it sees the test's archives and index."""
    search = CHECKS["search"].function
    healthy = search(60)
    backend = haystack.connections["default"].get_backend()
    # Not the list of the newest email: emails after the newest indexed one
    # wait for the hourly job, they are no drift.
    for email in Email.objects.filter(mailinglist=archives.tresorier):
        backend.remove(email)
    drifting = search(60)
    shutil.rmtree(search_index)
    deleted = search(60)

    assert healthy.status == Status.OK, healthy
    assert drifting.status == Status.ERROR, drifting
    assert drifting.details == (
        f"{archives.tresorier.name}: 0 of 5 emails in the index; mailman-web "
        f"update_index_one_list {archives.tresorier.name}",
    )
    assert deleted.status == Status.ERROR, deleted
    assert deleted.seen.startswith(f"There is no search index at {search_index}")


def test_cas_server_stopped(stack):
    stack.cas.stop()
    try:
        report = check("cas")
    finally:
        stack.cas.start()

    assert_found(report, Status.ERROR, "Connection refused", "Start the CAS server")


def test_list_deleted_in_core_only(stack):
    # Named first in sort order: the warning names this list, not the last one archived.
    address = f"abandonnee@{MAIL_DOMAIN}"
    assert address < min(demo_list.address for demo_list in LISTS)
    client = stack.core.client()
    client.get_domain(MAIL_DOMAIN).create_list("abandonnee")
    add_to_list(
        address,
        message(1, "Dernier message", "Cette liste va disparaître.", sender="carol@example.crans"),
    )
    client.get_list(address).delete()
    try:
        report = check("lists")
    finally:
        MailingList.objects.filter(name=address).delete()

    assert_found(
        report,
        Status.WARNING,
        f"{address}: archives of a list that core does not have",
        "delete the archives of lists deleted on purpose",
    )


def test_unfinished_rename(stack, settings):
    settings.HYPERKITTY_BATCH_MODE = True  # no look-up in core of the archived list
    old, new = f"ancienne@{MAIL_DOMAIN}", f"nouvelle@{MAIL_DOMAIN}"
    client = stack.core.client()
    client.get_domain(MAIL_DOMAIN).create_list("nouvelle")
    MailingList.objects.create(name=old, list_id=f"ancienne.{MAIL_DOMAIN}")
    MailingList.objects.create(name=new, list_id=f"nouvelle.{MAIL_DOMAIN}")
    add_to_list(
        old, message(2, "Avant le renommage", "Sous l'ancien nom.", sender="carol@example.crans")
    )
    try:
        report = check("lists")
    finally:
        MailingList.objects.filter(name__in=[old, new]).delete()
        client.get_list(new).delete()

    assert_found(
        report, Status.ERROR, f"an unfinished rename? mailman-web rename_list {old} {new}", ""
    )


def test_rename_left_unfinished_in_the_journal(stack):
    discussion = MailingList.objects.get(name=LISTS[1].address)
    rename = ListRename.objects.create(
        mailing_list_id=discussion.pk,
        old_name=discussion.name,
        old_list_id=discussion.list_id,
        new_name=f"causerie@{MAIL_DOMAIN}",
        new_list_id=f"causerie.{MAIL_DOMAIN}",
        plan={},
        actor="crans_doctor test",
    )
    number = rename.pk
    try:
        report = check("lists")
    finally:
        rename.delete()

    assert_found(
        report,
        Status.ERROR,
        f"{discussion.name} -> causerie@{MAIL_DOMAIN}: rename #{number} unfinished since",
        "Correct each list below",
    )
    assert f"rename_list --resume {number}" in report.results[0].finding.details[0]


def test_task_queue_stopped(stack):
    stop_process(stack.tasks)
    try:
        report = check("tasks")
    finally:
        stack.tasks = start_task_queue(stack.tasks_env, stack.folder / "qcluster.log")

    assert_found(report, Status.ERROR, "did not run a test task", "mailman-web qcluster")
    assert check("tasks").status == Status.OK


def test_smtp_down_exits_2_with_json(stack):
    stack.sink.stop()
    output = StringIO()
    try:
        with pytest.raises(SystemExit) as exited:
            call_command("crans_doctor", "--check", "smtp", "--json", stdout=output)
    finally:
        stack.sink.start()

    assert exited.value.code == 2
    report = json.loads(output.getvalue())
    assert report["status"] == "error"
    (smtp,) = report["checks"]
    assert smtp["name"] == "smtp"
    assert "Connection refused" in smtp["seen"]
    assert "Start the mail server" in smtp["fix"]


def test_a_warning_exits_1(stack, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    output = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("crans_doctor", "--check", "smtp", stdout=output)

    assert exited.value.code == 1
    assert output.getvalue().startswith("WARNING")


def test_in_french(stack):
    stack.sink.stop()
    try:
        with translation.override("fr"):
            (result,) = check("smtp").results
            title = str(result.title)
    finally:
        stack.sink.start()

    assert result.finding.seen.startswith("Le serveur SMTP 127.0.0.1:"), result.finding.seen
    assert result.finding.fix.startswith("Démarrez le serveur de courrier")
    assert title == "Courrier sortant (serveur SMTP)"


def test_admin_page_for_superusers_only(stack):
    users = get_user_model().objects
    root = users.create_superuser("doctor-root", "root@example.crans", "password")
    staff = users.create_user("doctor-staff", "staff@example.crans", "password", is_staff=True)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="fr")
    # LocaleMiddleware leaves French active in this thread: the other tests read English.
    # (The users stay: the last superuser cannot be deleted; the module's flush removes them.)
    with translation.override(translation.get_language()):
        client.force_login(staff)
        refused = client.get(reverse("admin:crans_doctor"))
        index_for_staff = client.get(reverse("admin:index"))
        client.force_login(root)
        index = client.get(reverse("admin:index"))
        page = client.get(reverse("admin:crans_doctor"))

    assert refused.status_code == 403
    assert "crans-doctor-link" not in index_for_staff.content.decode()
    assert reverse("admin:crans_doctor") in index.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    assert "Vérification du déploiement" in html
    for name in CHECKS:
        assert f'id="check-{name}" data-status="ok"' in html, name


def test_every_string_has_a_french_translation(tmp_path):
    sources = [
        *sorted((REPO / "crans_admin" / "doctor").glob("*.py")),
        REPO / "crans_admin" / "admin" / "doctor.py",
        REPO / "crans_admin" / "management" / "commands" / "crans_doctor.py",
    ]
    extracted, compared = compare_with_catalog(sources, tmp_path / "doctor.pot")
    assert extracted > 100
    assert compared.returncode == 0, compared.stderr


def test_missing_site(db, settings):
    settings.SITE_ID = 999

    assert_found(check("site"), Status.ERROR, "There is no Site #999", "crans_set_site")


def test_settings_report_what_crans_system_checks_find(settings):
    del settings.CRANS_SETTINGS_BASE
    settings.SOCIALACCOUNT_PROVIDERS = {}

    (result,) = check("settings").results

    assert result.status == Status.ERROR, result
    assert "crans.E001, crans.E004" in result.finding.seen
    assert [detail.partition(":")[0] for detail in result.finding.details] == [
        "crans.E001",
        "crans.E004",
    ]
    assert "SOCIALACCOUNT_PROVIDERS has no 'crans' entry" in result.finding.details[1]
    assert "from crans_mailman_web_settings.production import *" in result.finding.fix
    assert "Keep the SOCIALACCOUNT_PROVIDERS of Crans' settings." in result.finding.fix


def test_archiver_cfg_missing_is_an_error_where_set_a_warning_by_default(
    settings, tmp_path, monkeypatch
):
    chosen = tmp_path / "chosen" / "mailman-hyperkitty.cfg"
    settings.CRANS_MAILMAN_HYPERKITTY_CFG = str(chosen)
    set_but_missing = check("archiver")
    debian = tmp_path / "debian" / "mailman-hyperkitty.cfg"
    monkeypatch.setitem(DEFAULTS, "CRANS_MAILMAN_HYPERKITTY_CFG", str(debian))
    del settings.CRANS_MAILMAN_HYPERKITTY_CFG
    missing_by_default = check("archiver")

    fix = "Set CRANS_MAILMAN_HYPERKITTY_CFG to the path of core's mailman-hyperkitty.cfg"
    assert_found(set_but_missing, Status.ERROR, f"No {chosen}: the archiver's key", fix)
    assert_found(missing_by_default, Status.WARNING, f"No {debian}: the archiver's key", fix)


def test_debug_on_is_an_error(settings):
    settings.DEBUG = True

    assert_found(check("deploy"), Status.ERROR, "DEBUG is on", "Set DEBUG = False")


def test_a_check_past_its_timeout_is_an_error(monkeypatch):
    released = threading.Event()
    monkeypatch.setitem(
        CHECKS, "hangs", Check("hangs", "Hangs", lambda timeout: released.wait(), 0.5)
    )
    try:
        report = check("hangs")
    finally:
        released.set()

    assert_found(report, Status.ERROR, "No answer within 0.5 s.", "crans_doctor --check hangs")
    assert report.seconds < 5


def test_a_server_that_never_answers_is_an_error_within_the_timeout(settings):
    """An SMTP server that accepts connections (the kernel does) but never greets."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.EMAIL_HOST, settings.EMAIL_PORT = silent.getsockname()
        report = check("smtp")

    assert_found(report, Status.ERROR, "no answer in time", "Start the mail server")
    assert report.seconds < CHECKS["smtp"].timeout


def test_unknown_check_is_refused():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="invalid choice: 'nope'"):
        call_command("crans_doctor", "--check", "nope")


def test_command_in_a_fresh_folder_exits_2(run_manage):
    """Run as mailman-web runs it: nothing set up, no server: errors, each with its fix."""
    result = run_manage(
        "crans_doctor", "--json", "--check", "database", "--check", "static", check=False
    )

    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    by_name = {check["name"]: check for check in report["checks"]}
    assert by_name["database"]["status"] == "error"
    assert "mailman-web migrate" in by_name["database"]["fix"]
    assert by_name["static"]["status"] == "error"
    assert "collectstatic" in by_name["static"]["fix"]
