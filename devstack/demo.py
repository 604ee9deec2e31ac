"""The bundle's whole stack on one machine: what README's first command starts.

Run it with ``bash .ci/demo`` (``python -m devstack.demo``). On 127.0.0.1
only, each in its own folder of ``var/`` (ignored by git), it starts:

- an SMTP sink (``var/sent-mail/``, a Maildir) that receives what Mailman and
  mailman-web send;
- Mailman core 3.3.10 (``var/mailman-core/``, its virtualenv in
  ``var/venvs/mailman-core/``): SQLite, REST on 8001, LMTP on 8024, the
  hyperkitty archiver pointing at mailman-web;
- a CAS server (``var/cas/``, django-cas-server) on 8002 with the members
  ``alice`` and ``bob``;
- mailman-web with the embedded default settings (``var/``): migrated, static
  files collected and compressed offline, the Site and a demo administrator
  set, served on 8000, with its task queue (Django-Q's cluster);

then creates the domain ``lists.example.crans`` and two lists through core's
REST API, subscribes members, posts a few dozen messages through core's LMTP
and waits until hyperkitty has archived them. A second run reuses all of it
(nothing is posted twice) and starts in 15 to 30 seconds, mostly Mailman
core's own start. Ctrl-C stops every service, each by its own PID.

The end-to-end test (tests/test_e2e.py) starts the same services with the
same functions, on free ports and against the test database.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from mailmanclient import Client

from devstack.cas_server import CasServer, CasUser
from devstack.core import MailmanCore, MailmanCoreError, SMTPSink
from devstack.processes import (
    WaitError,
    descendants,
    end_processes,
    port_in_use,
    process_alive,
    started_at,
    stop_process,
    tail,
    wait_for_http,
)

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var"
HOST = "127.0.0.1"
SITE_NAME = "Listes Crans (démo)"
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@lists.example.crans"
MAIL_DOMAIN = "lists.example.crans"
MEMBER_DOMAIN = "example.crans"
ARCHIVE_TIMEOUT = 180.0  # seconds for core and hyperkitty to archive the demo messages
FOOTER_TEMPLATE = "list:member:regular:footer"


class StackError(Exception):
    """A service of the stack could not be started; the message says which and why."""


@dataclass(frozen=True)
class Ports:
    """The demo's ports, all on 127.0.0.1."""

    web: int = 8000
    rest: int = 8001
    cas: int = 8002
    lmtp: int = 8024
    smtp: int = 8025

    def services(self) -> list[tuple[str, int]]:
        return [
            ("mailman-web", self.web),
            ("Mailman core's REST API", self.rest),
            ("the CAS server", self.cas),
            ("Mailman core's LMTP server", self.lmtp),
            ("the SMTP sink", self.smtp),
        ]


# The demo's people, lists and messages.


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str

    @property
    def email(self) -> str:
        return f"{self.username}@{MEMBER_DOMAIN}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def cas_user(self, password: str) -> CasUser:
        return CasUser(self.username, password, self.email, self.first_name, self.last_name)


ALICE = Person("alice", "Alice", "Liddell")
BOB = Person("bob", "Bob", "Morane")
CAROL = Person("carol", "Carol", "Ann")
DAVE = Person("dave", "Dave", "Martin")
ERIN = Person("erin", "Erin", "Smith")
PEOPLE = {person.username: person for person in (ALICE, BOB, CAROL, DAVE, ERIN)}
# Members who log in through the CAS server; the others only write to the lists.
CAS_MEMBERS = (ALICE, BOB)
# Subscribed to every demo list when it is created. Bob is not: he can
# subscribe himself in postorius.
SUBSCRIBERS = (ALICE, CAROL, DAVE, ERIN)


@dataclass(frozen=True)
class DemoList:
    name: str  # local part
    description: str

    @property
    def address(self) -> str:
        return f"{self.name}@{MAIL_DOMAIN}"

    @property
    def list_id(self) -> str:
        return f"{self.name}.{MAIL_DOMAIN}"


ANNONCES = DemoList("annonces", "Les annonces du Crans : assemblées générales, travaux, coupures.")
DISCUSSION = DemoList("discussion", "Les discussions entre membres du Crans.")
LISTS = (ANNONCES, DISCUSSION)
# The footer that core adds to every message of the list, from postorius'
# template (core fetches it over HTTP from mailman-web).
FOOTERS = {DISCUSSION: "-- \nListe $display_name du Crans (démo)\nArchives : $hyperkitty_url\n"}

THREADS_FILE = Path(__file__).resolve().parent / "data" / "demo_threads.json"


def message_id(demo_list: DemoList, thread: int, post: int) -> str:
    """The Message-ID of a demo message, without angle brackets (as hyperkitty keeps it)."""
    return f"demo.{demo_list.name}.{thread}.{post}@{MEMBER_DOMAIN}"


def demo_messages(now: datetime | None = None) -> list[EmailMessage]:
    """The threads of ``THREADS_FILE`` as messages, parents first, dated over the last day.

    Not earlier: core's archiver replaces a Date more than a day away from
    the arrival time with the arrival time (``clobber_date``).
    """
    now = now or datetime.now(timezone.utc)
    lists = {demo_list.name: demo_list for demo_list in LISTS}
    threads = json.loads(THREADS_FILE.read_text())
    messages = []
    for number, thread in enumerate(threads):
        demo_list = lists[thread["list"]]
        started = now - timedelta(hours=(len(threads) - number) * 2)
        ancestors: list[list[str]] = []  # of each post, oldest first
        for index, post in enumerate(thread["posts"]):
            author = PEOPLE[post["from"]]
            parent = post.get("reply_to")
            chain = (
                []
                if parent is None
                else [*ancestors[parent], message_id(demo_list, number, parent)]
            )
            ancestors.append(chain)
            message = EmailMessage()
            message["From"] = formataddr((author.full_name, author.email))
            message["To"] = demo_list.address
            message["Subject"] = thread["subject"] if parent is None else f"Re: {thread['subject']}"
            message["Date"] = format_datetime(started + timedelta(minutes=20 * index))
            message["Message-ID"] = f"<{message_id(demo_list, number, index)}>"
            if chain:
                message["In-Reply-To"] = f"<{chain[-1]}>"
                message["References"] = " ".join(f"<{ancestor}>" for ancestor in chain)
            message.set_content(f"{post['body']}\n\n{author.first_name}\n")
            messages.append(message)
    return messages


# Content: the domain, the lists, the templates, the messages.


def create_lists(client: Client) -> None:
    """Create the domain and the lists in core and subscribe ``SUBSCRIBERS``; keep what exists.

    The mail domain is mapped to the current Site first, as postorius' domain
    page does: the links of archived and delivered mail (Archived-At,
    List-Archive, the footer's archive URL) then point to this site.
    """
    map_mail_domain()
    try:
        domain = client.get_domain(MAIL_DOMAIN)
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        domain = client.create_domain(MAIL_DOMAIN)
    for demo_list in LISTS:
        try:
            mailing_list = client.get_list(demo_list.address)
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            mailing_list = domain.create_list(demo_list.name)
            mailing_list.settings["description"] = demo_list.description
            mailing_list.settings.save()
        for person in SUBSCRIBERS:
            if not mailing_list.is_member(person.email):
                mailing_list.subscribe(
                    person.email,
                    person.full_name,
                    pre_verified=True,
                    pre_confirmed=True,
                    pre_approved=True,
                )


def map_mail_domain() -> None:
    """Map ``MAIL_DOMAIN`` to the current Site (django_mailman3's ``MailDomain``)."""
    from django.contrib.sites.models import Site
    from django_mailman3.models import MailDomain

    MailDomain.objects.update_or_create(
        mail_domain=MAIL_DOMAIN, defaults={"site": Site.objects.get_current()}
    )


def set_footers() -> None:
    """Give lists their footer through postorius' templates (saving one tells core its URL)."""
    from postorius.models import EmailTemplate

    for demo_list, text in FOOTERS.items():
        EmailTemplate.objects.update_or_create(
            name=FOOTER_TEMPLATE,
            context="list",
            identifier=demo_list.list_id,
            defaults={"data": text, "language": "fr"},
        )


def archived_ids(ids: Iterable[str]) -> set[str]:
    """Those of the Message-IDs ``ids`` that hyperkitty has archived."""
    from hyperkitty.models import Email

    return set(Email.objects.filter(message_id__in=list(ids)).values_list("message_id", flat=True))


def bare_id(message: EmailMessage) -> str:
    return message["Message-ID"].strip().strip("<>")


def post_messages(core: MailmanCore, messages: Sequence[EmailMessage]) -> list[EmailMessage]:
    """Hand core, by LMTP, those of ``messages`` that hyperkitty has not archived; return them."""
    done = archived_ids(bare_id(message) for message in messages)
    posted = [message for message in messages if bare_id(message) not in done]
    for message in posted:
        core.post_by_lmtp(message)
    return posted


def wait_until_archived(
    ids: Iterable[str], timeout: float = ARCHIVE_TIMEOUT, logs: Sequence[Path] = ()
) -> None:
    """Wait until hyperkitty has archived every Message-ID of ``ids``."""
    wanted = set(ids)
    began = time.monotonic()
    while (missing := wanted - archived_ids(wanted)) and time.monotonic() - began < timeout:
        time.sleep(0.5)
    if missing:
        raise StackError(
            f"hyperkitty archived {len(wanted) - len(missing)} of {len(wanted)} messages within "
            f"{timeout:.0f} s (missing: {', '.join(sorted(missing)[:3])}...); see "
            + ", ".join(str(log) for log in logs)
        )


def index_archives() -> None:
    """Add newly archived emails to the search index, as hyperkitty's hourly job does."""
    from hyperkitty.search_indexes import update_index

    update_index()


# Services.


def end_leftovers(known: dict[int, str | None]) -> None:
    """End, by PID, the processes of ``known`` (pid: start time) still alive."""
    alive = [pid for pid, start in known.items() if process_alive(pid) and started_at(pid) == start]
    if alive:
        print(f"  ending {len(alive)} process(es) left behind: {alive}", flush=True)
        end_processes(alive)


def start_manage(args: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Run ``manage.py ARGS`` in a session of its own (Ctrl-C reaches only the demo)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as output:
        return subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def web_server_command(port: int) -> list[str]:
    """mailman-web's development server; with DEBUG off, it serves static files only when told."""
    return ["runserver", "--insecure", "--noreload", f"{HOST}:{port}"]


def start_task_queue(env: dict[str, str], log: Path, timeout: float = 60) -> subprocess.Popen:
    """Start mailman-web's task queue (``qcluster``): hyperkitty's caches, list details from core.

    It is up once it says so in its log.
    """
    offset = log.stat().st_size if log.exists() else 0
    process = start_manage(["qcluster"], env, log)
    deadline = time.monotonic() + timeout
    try:
        while " running." not in log.read_text(errors="replace")[offset:]:
            if process.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"mailman-web's task queue (qcluster) did not start; see {log}")
            time.sleep(0.2)
    except BaseException:  # Ctrl-C included
        stop_process(process)
        raise
    return process


# What the demo's mailman-web processes see of their environment, written to
# ENV_FILE: commands run from the clone with it read the demo's configuration.
DEMO_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "MAILMAN_WEB_LOCAL_DIR",
    "MAILMAN_WEB_DEBUG",
    "MAILMAN_REST_API_URL",
    "CRANS_CAS_SERVER_URL",
    "MAILMAN_WEB_EMAIL_PORT",
)
ENV_FILE = VAR / "demo.env"


def write_environment(env: dict[str, str], path: Path = ENV_FILE) -> None:
    """Write ``DEMO_VARIABLES`` of ``env`` to ``path``, for ``set -a; . path; set +a``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# The demo's environment (devstack/demo.py): set -a; . var/demo.env; set +a\n"
        + "".join(f"{name}={shlex.quote(env[name])}\n" for name in DEMO_VARIABLES if name in env)
    )


def kept_password(name: str) -> str:
    """A demo password kept in ``var/secrets/<name>``, drawn on the first run."""
    path = VAR / "secrets" / name
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


# The demo.


@dataclass
class Demo:
    """The demo's services on the fixed ``ports``, and what a visitor needs to know."""

    ports: Ports
    passwords: dict[str, str]
    core: MailmanCore
    cas: CasServer
    sink: SMTPSink
    web_env: dict[str, str]
    web: subprocess.Popen | None = None
    tasks: subprocess.Popen | None = None
    # Every process of the services seen so far (pid: start time), so that
    # none outlives the demo, even one whose parent died.
    known: dict[int, str | None] = field(default_factory=dict)

    @property
    def site(self) -> str:
        return f"http://{HOST}:{self.ports.web}"

    def note_processes(self) -> None:
        """Add the processes the services run now to ``known``."""
        roots = [process.pid for process in (self.web, self.tasks) if process is not None]
        master = self.core.master_pid()
        if master is not None and process_alive(master):
            roots.append(master)
        for pid in roots + [child for root in roots for child in descendants(root)]:
            self.known.setdefault(pid, started_at(pid))

    def watched(self) -> list[tuple[str, Callable[[], bool], Path]]:
        """(service, is it alive?, its log) for every process the demo waits on."""
        master = self.core.master_pid
        return [
            ("mailman-web", lambda: self.web.poll() is None, VAR / "logs" / "runserver.log"),
            ("the task queue", lambda: self.tasks.poll() is None, VAR / "logs" / "qcluster.log"),
            (
                "the CAS server",
                lambda: self.cas.process.poll() is None,
                self.cas.folder / "cas.log",
            ),
            ("Mailman core", lambda: process_alive(master() or 0), self.core.log_file),
        ]


def check_ports(ports: Ports, core: MailmanCore) -> None:
    """Raise ``StackError`` naming the first port of the demo that is in use."""
    for service, port in ports.services():
        if port_in_use(port):
            hint = ""
            pid = core.master_pid()
            if pid is not None and process_alive(pid):
                hint = (
                    f"\nA Mailman core of an earlier run is still running (PID {pid}); stop it "
                    f"with: {core.mailman_bin} -C {core.config_file} stop"
                )
            raise StackError(
                f"{service} cannot start: port {HOST}:{port} is already in use (see which "
                f"process with: ss -ltnp 'sport = :{port}').{hint}"
            )


def prepare_web(ports: Ports, passwords: dict[str, str]) -> None:
    """Migrate, collect and compress static files, set the Site and the demo admin."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = Path(settings.STATIC_ROOT) / "CACHE" / "manifest.json"
    if not manifest.exists() or newest_source_change() > manifest.stat().st_mtime:
        print("Compressing static files (offline, once)...", flush=True)
        call_command("compress", verbosity=0)
    set_site(f"{HOST}:{ports.web}")
    create_admin(passwords[ADMIN_USERNAME])


def create_admin(password: str) -> None:
    """The demo administrator: a local account, made superuser as an administrator would."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    admin, _ = get_user_model().objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"email": ADMIN_EMAIL}
    )
    admin.set_password(password)
    admin.save()
    EmailAddress.objects.update_or_create(
        user=admin, email=ADMIN_EMAIL, defaults={"verified": True, "primary": True}
    )
    call_command("crans_grant_superuser", ADMIN_USERNAME, local=True, verbosity=0)


def set_site(domain: str) -> None:
    """Name the Site after the demo and serve it on ``domain`` (host:port)."""
    from django.core.management import call_command

    call_command("crans_set_site", domain=domain, name=SITE_NAME, verbosity=0)


def newest_source_change() -> float:
    """The time of the newest template or static file of the theme."""
    theme = REPO / "mailman_crans_theme"
    return max((path.stat().st_mtime for path in theme.rglob("*") if path.is_file()), default=0)


def start_core(core: MailmanCore) -> None:
    """Install core's virtualenv (once), write its configuration, start it."""
    if not (core.venv / "bin" / "mailman").exists():
        print(f"Installing Mailman core 3.3.10 in {core.venv} (first run only)...", flush=True)
    core.install()
    core.write_config()
    # A core that died without stopping (killed, machine switched off) left
    # its lock behind; core removes it once sure that no process holds it.
    core.start(force=True)


def stop_at_exit(running: ExitStack, service: str, stop: Callable, *args: object) -> None:
    """Have ``running`` call ``stop(*args)`` at the end, and say so."""

    def stop_service() -> None:
        began = time.monotonic()
        stop(*args)
        print(f"  {service} stopped ({time.monotonic() - began:.1f} s)", flush=True)

    running.callback(stop_service)


def finish_starting(pool: ThreadPoolExecutor, starts: list[Future]) -> None:
    """Wait for the services still starting in ``pool`` (to stop them next)."""
    if not all(started.done() for started in starts):
        print("  waiting for Mailman core and the CAS server to finish starting...", flush=True)
    pool.shutdown()


def start(demo: Demo, running: ExitStack) -> None:
    """Start every service of ``demo``; ``running`` stops them (in reverse order) at the end."""
    from django.conf import settings

    check_ports(demo.ports, demo.core)
    running.callback(end_leftovers, demo.known)
    demo.sink.start()
    stop_at_exit(running, "the SMTP sink", demo.sink.stop)
    stop_at_exit(running, "Mailman core", demo.core.stop)
    stop_at_exit(running, "the CAS server", demo.cas.stop)
    # Core and the CAS server start in the background (core's REST API takes
    # seconds to answer) while mailman-web is prepared here. When stopping,
    # first wait for them to finish starting, then stop them.
    pool = ThreadPoolExecutor(max_workers=2)
    core_started = pool.submit(start_core, demo.core)
    cas_started = pool.submit(demo.cas.start)
    running.callback(finish_starting, pool, [core_started, cas_started])
    prepare_web(demo.ports, demo.passwords)
    write_environment(demo.web_env)
    demo.web = start_manage(
        web_server_command(demo.ports.web),
        demo.web_env,
        VAR / "logs" / "runserver.log",
    )
    stop_at_exit(running, "mailman-web", stop_process, demo.web)
    demo.tasks = start_task_queue(demo.web_env, VAR / "logs" / "qcluster.log")
    stop_at_exit(running, "the task queue", stop_process, demo.tasks)
    wait_for_http(f"{demo.site}/accounts/login/", 60, demo.web, VAR / "logs" / "runserver.log")
    try:
        core_started.result()
    except MailmanCoreError as error:
        raise StackError(f"Mailman core did not start: {error}") from error
    try:
        cas_started.result()
    except RuntimeError as error:
        raise StackError(f"The CAS server did not start: {error}") from error
    create_lists(demo.core.client())
    set_footers()
    messages = demo_messages()
    posted = post_messages(demo.core, messages)
    if posted:
        print(
            f"Posted {len(posted)} messages through core's LMTP; "
            "waiting for hyperkitty to archive them...",
            flush=True,
        )
    wait_until_archived(
        [bare_id(message) for message in messages],
        logs=[demo.core.log_file, Path(settings.LOGGING["handlers"]["file"]["filename"])],
    )
    index_archives()


def describe(demo: Demo, seconds: float) -> str:
    site, cas = demo.site, demo.cas.url
    members = ", ".join(
        f"{person.username} / {demo.passwords[person.username]}" for person in CAS_MEMBERS
    )
    return f"""
Crans mailman-web demo, started in {seconds:.1f} s:

  mailman-web     {site}/  (lists: {site}/postorius/lists/, archives: {site}/archives/)
  CAS members     {members}
                  on the login page, "Log in with your Crans account"; alice is subscribed
                  to {ANNONCES.address} and {DISCUSSION.address}, bob to nothing yet
  administrator   {ADMIN_USERNAME} / {demo.passwords[ADMIN_USERNAME]}  ({site}/admin/)
                  (the passwords are kept in {VAR / "secrets"}/)
  CAS server      {cas}login
  Mailman core    REST {demo.core.rest_url}/3.1/ ({demo.core.admin_user} / {demo.core.admin_pass})
                  LMTP {HOST}:{demo.ports.lmtp}
  mail sent       {demo.sink.folder}/new/ (one file per message Mailman or mailman-web sent)
  logs            {VAR / "logs"}/, {demo.core.log_file.parent}/, {demo.cas.folder / "cas.log"}
  commands        with the demo's settings, from {REPO}:
                  set -a; . {ENV_FILE.relative_to(REPO)}; set +a
                  .venv/bin/python manage.py crans_doctor

Ctrl-C stops everything (each service by its own PID).
"""


def wait_until_interrupted(demo: Demo) -> None:
    """Serve until Ctrl-C or SIGTERM; raise ``StackError`` if a service stops on its own."""
    watched = demo.watched()
    while True:
        demo.note_processes()
        for service, alive, log in watched:
            if not alive():
                raise StackError(f"{service} stopped on its own; see {log}:\n{tail(log)}")
        time.sleep(1)


def interrupt(signum, frame) -> None:
    """Stop on the first Ctrl-C or SIGTERM; ignore the next ones (stopping takes seconds)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def run_demo() -> int:
    """Start the demo, serve until SIGTERM or Ctrl-C, stop everything; 1 if it failed."""
    began = time.monotonic()
    ports = Ports()
    os.environ["DJANGO_SETTINGS_MODULE"] = "crans_mailman_web_settings.local"
    os.environ["MAILMAN_WEB_LOCAL_DIR"] = str(VAR)
    os.environ["MAILMAN_WEB_DEBUG"] = "0"  # the site's own error pages, not Django's debug ones
    os.environ["MAILMAN_REST_API_URL"] = f"http://{HOST}:{ports.rest}"
    os.environ["CRANS_CAS_SERVER_URL"] = f"http://{HOST}:{ports.cas}/cas/"
    os.environ["MAILMAN_WEB_EMAIL_PORT"] = str(ports.smtp)  # mailman-web's own mail to the sink
    import django
    from django.conf import settings

    django.setup()
    passwords = {
        name: kept_password(f"demo_{name}_password")
        for name in (ADMIN_USERNAME, *(person.username for person in CAS_MEMBERS))
    }
    core = MailmanCore(
        VAR / "mailman-core",
        f"sqlite:///{VAR / 'mailman-core' / 'mailman.db'}",
        ports.smtp,
        rest_port=ports.rest,
        lmtp_port=ports.lmtp,
        archiver_base_url=f"http://{HOST}:{ports.web}/archives/",
        archiver_key=settings.MAILMAN_ARCHIVER_KEY,
        admin_user=settings.MAILMAN_REST_API_USER,
        admin_pass=settings.MAILMAN_REST_API_PASS,
    )
    demo = Demo(
        ports=ports,
        passwords=passwords,
        core=core,
        cas=CasServer(
            VAR / "cas",
            ports.cas,
            [person.cas_user(passwords[person.username]) for person in CAS_MEMBERS],
        ),
        sink=SMTPSink(VAR / "sent-mail", ports.smtp),
        web_env=dict(os.environ),
    )
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    status = 0
    with ExitStack() as running:
        try:
            start(demo, running)
            print(describe(demo, time.monotonic() - began), flush=True)
            wait_until_interrupted(demo)
        except KeyboardInterrupt:
            print("\nStopping...", flush=True)
        except (StackError, MailmanCoreError, WaitError) as error:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print(f"\nThe demo stopped: {error}", file=sys.stderr, flush=True)
            status = 1
    print("Every service of the demo is stopped.", flush=True)
    return status


def main() -> int:
    """Run the demo in a session of its own, and stop it on Ctrl-C.

    Ctrl-C signals every process of the terminal's foreground group: the
    commands that start the services (``mailman start``, pip) must not get it
    halfway through. Only this process does, and tells the demo to stop
    (SIGTERM); the demo then stops each service it started.
    """
    if sys.argv[1:] == ["--run"]:
        return run_demo()
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    demo = subprocess.Popen(
        [sys.executable, "-m", __spec__.name, "--run"], cwd=REPO, start_new_session=True
    )
    while True:
        try:
            return demo.wait()
        except KeyboardInterrupt:
            demo.terminate()


if __name__ == "__main__":
    sys.exit(main())
