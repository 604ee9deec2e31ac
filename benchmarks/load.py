"""Load benchmark: the bundle and Debian's stock site under uwsgi, many members at once.

Run it from the repository root, on a throw-away PostgreSQL cluster:

    .ci/postgres .venv/bin/python benchmarks/load.py [--quick] [--levels 1,4,16,64]

Both sites run at once under uwsgi with the options of Debian 13's
``/etc/mailman3/uwsgi.ini`` (``devstack.uwsgi``: ``master``, ``process = 2``,
``threads = 2``, ``enable-threads``, the task queue as an attached daemon),
on one PostgreSQL database, with a real Mailman core 3.3.10 (postorius' pages
ask it) and a real django-cas-server: the bundle (its production settings)
and the stock site (PyPI mailman-web's settings, no bundle:
``load_stock_settings``, where members log in with a password). The database
holds one list of ``--emails`` emails (bulk inserts, threads of one to six
messages over two years) and its Whoosh search index, built once per run.

A bounded client of the benchmark's own (threads, one HTTP session each,
loopback only, each phase bounded in time and in requests) drives, at each
level of concurrent clients, the mix members produce: anonymous archive
browsing (archives index, list overview, month, thread, message, search),
logged-in members' pages (postorius' subscriptions and list page,
hyperkitty's votes page, a vote), logins (the bundle: the CAS round trip,
members at once and one member in several tabs; the stock site: its login
form), and core's archiver posting new mail through the archiver API, at a
fixed rate, at the same time. Every client of a phase follows a sequence of
its own drawn from a seed, the same for both sites. Phases alternate between
the two sites (the first alternating from round to round), ``--rounds``
rounds of ``--seconds`` seconds per level and site.

Reported per level and site: requests per second (median and minimum over
the rounds), p50/p95/p99 per page (the rounds pooled), errors by status;
ratios bundle / stock: throughput per round (min and median; goal >= 0.95)
and p99 per page (goal <= 1.05), with its distribution-free 95 % interval; each
site against itself (its even rounds' p99 over its odd rounds'), the spread of
the measure. Written to benchmarks/results/load.json and
load.md (``--quick``: load-quick.*), with the costs of the faults measured by
``benchmarks/results/faults.json`` when it is there.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from importlib import metadata
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import psutil
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)] if str(REPO) not in sys.path else []
CACHE = REPO / "var" / "benchmarks" / "load"

from measuring import RESULTS, commit, summary  # noqa: E402

from devstack.cas_server import CasServer, CasUser, submit_login_form  # noqa: E402
from devstack.core import MailmanCore, SMTPSink  # noqa: E402
from devstack.postgresql import core_database, scratch_database  # noqa: E402
from devstack.processes import descendants, free_port  # noqa: E402
from devstack.uwsgi import (  # noqa: E402
    BUNDLE_SETTINGS,
    DEBIAN_WORKERS,
    UwsgiSite,
    manage,
    prepare_site,
    site_environment,
    start_uwsgi,
)

VARIANTS = ("bundle", "stock")
SETTINGS = {"bundle": BUNDLE_SETTINGS, "stock": "benchmarks.load_stock_settings"}
MAIL_HOST = "lists.crans.org"
LIST = f"bench@{MAIL_HOST}"
LIST_ID = f"bench.{MAIL_HOST}"
ARCHIVER_KEY = "load-benchmark-archiver-key"
THROUGHPUT_GOAL = 0.95
P99_GOAL = 1.05
LEVELS = (1, 4, 16, 64)
# Members who log in; the first HOT ones log in from several clients at once (tabs).
MEMBERS = 16
HOT = 2
# Weights of what a client does next (a login is several requests).
MIX = {
    "archives index": 6,
    "list overview": 10,
    "month": 10,
    "thread": 16,
    "message": 16,
    "search": 6,
    "subscriptions": 6,
    "list page": 6,
    "votes page": 4,
    "vote": 5,
    "login": 4,
}
MEMBER_PAGES = ("subscriptions", "list page", "votes page", "vote")
# mailman-web's requests of a login, per site (the CAS server's are reported apart).
LOGIN_PAGES = {
    "bundle": ("login: start (CAS)", "login: callback (CAS)"),
    "stock": ("login: form", "login: post"),
}
ARCHIVER_PAGE = "archiver: new mail"
LOGIN = "login (mailman-web's requests)"
# Seconds a client waits for an answer (uwsgi's queue at 64 clients included).
TIMEOUT = 60
WORDS = (
    "réunion assemblée travaux coupure réseau serveur wifi câble cotisation "
    "adhérent bureau conseil élection vote budget matériel switch routeur "
    "imprimante salle clé badge local permanence formation atelier linux "
    "debian paquet mise à jour sauvegarde disque mémoire processeur courriel "
    "liste archive message fil discussion annonce soirée week-end bénévole "
    "trésorier président secrétaire compte rendu ordre du jour proposition"
).split()
SEARCHES = ("réunion", "serveur", "cotisation", "debian", "sauvegarde", "soirée", "budget")


# --- The data: a list of N emails, its members ------------------------------------------


@dataclass
class Archive:
    """What the clients ask for: the seeded threads, messages and months."""

    threads: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    months: list[tuple[int, int]] = field(default_factory=list)


def member(number: int) -> CasUser:
    name = f"membre{number:02d}"
    return CasUser(name, f"{name}-password", f"{name}@crans.org", "Membre", f"{number:02d}")


def seed(emails: int, members: list[CasUser]) -> tuple[Archive, float]:
    """Insert the list, its ``emails`` emails and the members' accounts; the seconds it took.

    Bulk inserts of hyperkitty's rows as ``add_to_list`` makes them (senders,
    threads, emails with their parents, depths and orders); hyperkitty's
    own path takes ~8 ms per email here (~80 s for 10 000).
    """
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import MD5PasswordHasher
    from django.contrib.sites.models import Site
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django_mailman3.models import MailDomain
    from hyperkitty.lib.utils import get_message_id_hash
    from hyperkitty.models import Email, MailingList, Sender, Thread

    began = time.monotonic()
    archive = Archive()
    with transaction.atomic():
        site, _ = Site.objects.update_or_create(
            pk=1, defaults={"domain": "127.0.0.1", "name": "Listes Crans"}
        )
        MailDomain.objects.get_or_create(site=site, mail_domain=MAIL_HOST)
        mailing_list = MailingList.objects.create(
            name=LIST, list_id=LIST_ID, display_name="Bench", subject_prefix="[bench] "
        )
        senders = [f"membre{number:02d}@crans.org" for number in range(60)]
        Sender.objects.bulk_create(Sender(address=address) for address in senders)
        rng = random.Random(0)
        end = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
        start = end - timedelta(days=730)
        step = (end - start) / emails
        threads, rows = [], []
        number = 0
        while number < emails:
            size = min(rng.choice((1, 1, 2, 3, 4, 6)), emails - number)
            first_id = f"load.{number}@{MAIL_HOST}"
            thread = Thread(
                id=len(threads) + 1,
                mailinglist=mailing_list,
                thread_id=get_message_id_hash(first_id),
                date_active=start + step * (number + size - 1),
                starting_email_id=number + 1,
            )
            threads.append(thread)
            archive.threads.append(thread.thread_id)
            for reply in range(size):
                message_id = f"load.{number}@{MAIL_HOST}"
                date = start + step * number
                rows.append(
                    Email(
                        id=number + 1,
                        mailinglist=mailing_list,
                        message_id=message_id,
                        message_id_hash=get_message_id_hash(message_id),
                        sender_id=senders[number % len(senders)],
                        sender_name=f"Membre {number % len(senders):02d}",
                        subject=f"{'Re: ' if reply else ''}Sujet {len(threads)}",
                        content=" ".join(rng.choice(WORDS) for _ in range(80)),
                        date=date,
                        timezone=60,
                        in_reply_to=f"load.{number - 1}@{MAIL_HOST}" if reply else None,
                        parent_id=number if reply else None,
                        thread_id=thread.id,
                        archived_date=date,
                        thread_depth=reply,
                        thread_order=reply,
                    )
                )
                archive.messages.append(rows[-1].message_id_hash)
                if (date.year, date.month) not in archive.months:
                    archive.months.append((date.year, date.month))
                number += 1
        # The threads' first emails do not exist yet: set them once the emails do.
        Thread.objects.bulk_create(
            [Thread(**{**vars_of(thread), "starting_email_id": None}) for thread in threads],
            batch_size=2000,
        )
        Email.objects.bulk_create(rows, batch_size=2000)
        Thread.objects.bulk_update(threads, ["starting_email_id"], batch_size=2000)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Email, Thread]):
                cursor.execute(statement)
        users = get_user_model().objects.bulk_create(
            get_user_model()(
                username=person.username,
                email=person.email,
                # The stock site's login form checks it (load_stock_settings: MD5).
                # A salt of full length: a short one is "upgraded" at the first login,
                # and the new hash would end the member's sessions on the other site.
                password=MD5PasswordHasher().encode(person.password, MD5PasswordHasher().salt()),
            )
            for person in members
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
        )
        # The bundle's members as after their first CAS login.
        SocialAccount.objects.bulk_create(
            SocialAccount(user=user, provider="crans", uid=user.username, extra_data={})
            for user in users
        )
    return archive, time.monotonic() - began


def vars_of(thread) -> dict:
    return {
        name: getattr(thread, name)
        for name in ("id", "mailinglist_id", "thread_id", "date_active", "starting_email_id")
    }


def new_mail(variant: str, phase: str, number: int, archive: Archive, rng: random.Random):
    """An email as core hands it to the archiver: a new thread, or a reply to a seeded one."""
    message = EmailMessage()
    message["From"] = f"Membre {number % 60:02d} <membre{number % 60:02d}@crans.org>"
    message["To"] = LIST
    message["Message-ID"] = f"<new.{variant}.{phase}.{number}@{MAIL_HOST}>"
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    if rng.random() < 0.5:
        parent = rng.randrange(len(archive.messages))
        message["Subject"] = "Re: Sujet"
        message["In-Reply-To"] = f"<load.{parent}@{MAIL_HOST}>"
    else:
        message["Subject"] = f"Nouveau sujet {phase} {number}"
    message.set_content(" ".join(rng.choice(WORDS) for _ in range(60)))
    return message


# --- The stack ---------------------------------------------------------------------------


def static_cache_key(variant: str) -> str:
    """What the offline-compressed static files depend on: the apps' versions, the theme."""
    versions = [
        f"{name}=={metadata.version(name)}"
        for name in ("hyperkitty", "postorius", "django-mailman3", "django-compressor", "Django")
    ]
    theme = REPO / "mailman_crans_theme"
    newest = max(path.stat().st_mtime for path in theme.rglob("*") if path.is_file())
    text = f"{variant} {SETTINGS[variant]} {' '.join(versions)} {newest}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare_static(variant: str, env: dict[str, str]) -> float:
    """Collect and compress the site's static files, or copy those of an earlier run."""
    began = time.monotonic()
    cached = CACHE / f"static-{variant}-{static_cache_key(variant)}"
    if cached.exists():
        prepare_site(env, migrate=False, static_from=cached)
    else:
        prepare_site(env, migrate=False)
        for old in CACHE.glob(f"static-{variant}-*"):
            shutil.rmtree(old, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(env["MAILMAN_WEB_BASE_DIR"]) / "static", cached)
    return time.monotonic() - began


@dataclass
class Stack:
    folder: Path
    database: str
    core: MailmanCore
    cas: CasServer
    sites: dict[str, UwsgiSite] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def environment(stack: Stack, variant: str) -> dict[str, str]:
    return site_environment(
        stack.folder / variant,
        settings=SETTINGS[variant],
        core_url=stack.core.rest_url,
        core_password=stack.core.admin_pass,
        archiver_key=ARCHIVER_KEY,
        cas_url=stack.cas.url,
        extra={"MAILMAN_WEB_DB_NAME": stack.database},
    )


def start_core(core: MailmanCore, members: list[CasUser]) -> None:
    """Install (once), configure and start core; the list and its members in it."""
    core.install()
    core.write_config()
    core.start()
    client = core.client()
    domain = client.create_domain(MAIL_HOST)
    mailing_list = domain.create_list("bench")
    for person in members:
        mailing_list.subscribe(
            person.email,
            pre_verified=True,
            pre_confirmed=True,
            pre_approved=True,
            send_welcome_message=False,
        )


# --- The client --------------------------------------------------------------------------


@dataclass
class Sample:
    page: str
    status: int | str  # an HTTP status, or the exception's name
    seconds: float
    ok: bool


class FreshConnections(requests.Session):
    """An HTTP session that opens a connection per request, as a reverse proxy does.

    uwsgi's HTTP socket closes each connection after its answer; a kept-alive
    connection would be found closed now and then (connection reset).
    """

    def request(self, *args, **kwargs) -> requests.Response:
        try:
            return super().request(*args, **kwargs)
        finally:
            self.close()


class Browser:
    """A member's (or a visitor's) browser on one site: its own HTTP session.

    The bundle sits behind the reverse proxy as in production
    (``X-Forwarded-Scheme: https``): its cookies are Secure, which this
    client sends over the loopback's plain HTTP all the same.
    """

    def __init__(self, site: str, samples: list[Sample]) -> None:
        self.site = site
        self.http = FreshConnections()
        self.http.headers.update({"X-Forwarded-Scheme": "https"})
        self.samples = samples

    def request(
        self, page: str, method: str, url: str, expected: tuple[int, ...] = (200,), **options
    ) -> requests.Response | None:
        if url.startswith("/"):
            url = self.site + url
        began = time.perf_counter()
        try:
            response = self.http.request(
                method, url, allow_redirects=False, timeout=TIMEOUT, **options
            )
        except requests.RequestException as error:
            self.samples.append(
                Sample(page, type(error).__name__, time.perf_counter() - began, False)
            )
            if os.environ.get("LOAD_DEBUG"):
                print(page, method, url, repr(error), flush=True)
            return None
        seconds = time.perf_counter() - began
        if os.environ.get("LOAD_DEBUG") and response.status_code not in expected:
            print(
                page,
                method,
                url,
                response.status_code,
                response.headers.get("Location"),
                [(c.name, c.domain, c.path, c.secure) for c in self.http.cookies],
                flush=True,
            )
        for cookie in self.http.cookies:
            cookie.secure = False
        self.samples.append(
            Sample(page, response.status_code, seconds, response.status_code in expected)
        )
        return response if response.status_code in expected else None

    def get(self, page: str, path: str, expected=(200,)) -> requests.Response | None:
        return self.request(page, "GET", path, expected)

    def post(self, page: str, path: str, data: dict, expected=(200,)) -> requests.Response | None:
        token = next((c.value for c in self.http.cookies if c.name == "csrftoken"), "")
        return self.request(
            page,
            "POST",
            path,
            expected,
            data={**data, "csrfmiddlewaretoken": token},
            headers={
                "Referer": f"https://{urlsplit(self.site).netloc}{path}",
                "X-CSRFToken": token,
            },
        )


def log_in(browser: Browser, variant: str, person: CasUser, cas: CasServer) -> bool:
    """Log ``person`` in: the bundle through the CAS server, the stock site with its form."""
    first, second = LOGIN_PAGES[variant]
    if variant == "stock":
        if browser.get(first, "/accounts/login/") is None:
            return False
        return (
            browser.post(
                second,
                "/accounts/login/",
                {"login": person.username, "password": person.password},
                expected=(302,),
            )
            is not None
        )
    started = browser.get(first, "/accounts/crans/login/?process=login", expected=(302,))
    if started is None:
        return False
    cas_login = started.headers["Location"]
    cas_page = browser.request("cas: login page", "GET", cas_login, expected=(200, 302))
    if cas_page is None:
        return False
    if cas_page.status_code == 200:
        began = time.perf_counter()
        try:
            answer = submit_login_form(browser.http, cas_page, person.username, person.password)
        except requests.RequestException as error:
            browser.samples.append(
                Sample("cas: login post", type(error).__name__, time.perf_counter() - began, False)
            )
            return False
        browser.samples.append(
            Sample(
                "cas: login post",
                answer.status_code,
                time.perf_counter() - began,
                answer.status_code == 302,
            )
        )
        if answer.status_code != 302:
            return False
        cas_page = answer
    # The CAS sends the browser back to the service URL (https://...: the site
    # behind its proxy): the same path and query on this site.
    back = urlsplit(cas_page.headers["Location"])
    if "ticket" not in parse_qs(back.query):
        browser.samples.append(Sample("cas: login post", "no ticket", 0.0, False))
        return False
    return browser.get(second, f"{back.path}?{back.query}", expected=(302,)) is not None


@dataclass
class Phase:
    variant: str
    level: int
    round: int
    seconds: float
    samples: list[Sample]
    archived: int
    # The tasks the phase left in the queue, and the seconds the task queue took on them.
    tasks_left: int = 0
    drain_seconds: float = 0.0
    # CPU seconds the phase cost: the site's uwsgi workers, its task queue (the tasks the
    # phase left included), the CAS server (the bundle's logins).
    cpu: dict[str, float] = field(default_factory=dict)


def pick(rng: random.Random) -> str:
    return rng.choices(list(MIX), weights=list(MIX.values()))[0]


def client_loop(
    site: str,
    variant: str,
    rng: random.Random,
    deadline: float,
    max_requests: int,
    archive: Archive,
    member_cookies: list[requests.cookies.RequestsCookieJar],
    members: list[CasUser],
    cas: CasServer,
    samples: list[Sample],
    first_login: bool = False,
) -> None:
    """One client: visitor's pages, a member's pages (its own tab of a member's session),
    logins, until ``deadline`` or ``max_requests``."""
    visitor = Browser(site, samples)
    tab = Browser(site, samples)
    tab.http.cookies.update(member_cookies[rng.randrange(len(member_cookies))].copy())
    # The first client starts with a login: every phase has one, however short.
    what = "login" if first_login else pick(rng)
    while time.monotonic() < deadline and len(samples) < max_requests:
        thread = rng.choice(archive.threads)
        message = rng.choice(archive.messages)
        year, month = rng.choice(archive.months)
        if what == "archives index":
            visitor.get(what, "/archives/")
        elif what == "list overview":
            visitor.get(what, f"/archives/list/{LIST}/")
        elif what == "month":
            visitor.get(what, f"/archives/list/{LIST}/{year}/{month}/")
        elif what == "thread":
            visitor.get(what, f"/archives/list/{LIST}/thread/{thread}/")
        elif what == "message":
            visitor.get(what, f"/archives/list/{LIST}/message/{message}/")
        elif what == "search":
            query = urlencode({"q": rng.choice(SEARCHES), "mlist": LIST})
            visitor.get(what, f"/archives/search?{query}")
        elif what == "subscriptions":
            tab.get(what, "/postorius/accounts/subscriptions/")
        elif what == "list page":
            tab.get(what, f"/postorius/lists/{LIST_ID}/")
        elif what == "votes page":
            tab.get(what, "/archives/profile/votes")
        elif what == "vote":
            tab.post(
                what,
                f"/archives/list/{LIST}/message/{message}/vote",
                {"vote": rng.choice(("1", "-1", "0"))},
            )
        elif what == "login":
            # A new browser; half the logins are of the few members who log in everywhere.
            person = members[
                rng.randrange(HOT) if rng.random() < 0.5 else rng.randrange(len(members))
            ]
            log_in(Browser(site, samples), variant, person, cas)
        what = pick(rng)


def archiver_loop(
    site: str,
    variant: str,
    phase: str,
    rate: float,
    deadline: float,
    archive: Archive,
    samples: list[Sample],
) -> int:
    """Core's archiver: new mail through hyperkitty's archiver API at ``rate`` a second."""
    rng = random.Random(phase)
    http = FreshConnections()
    http.headers.update({"Authorization": f"Token {ARCHIVER_KEY}"})
    number = 0
    next_at = time.monotonic()
    while next_at < deadline:
        time.sleep(max(0.0, next_at - time.monotonic()))
        message = new_mail(variant, phase, number, archive, rng)
        began = time.perf_counter()
        try:
            response = http.post(
                f"{site}/archives/api/mailman/archive",
                data={"mlist": LIST},
                files={"message": ("message.txt", message.as_bytes())},
                timeout=TIMEOUT,
            )
            status, ok = response.status_code, response.status_code == 200
        except requests.RequestException as error:
            status, ok = type(error).__name__, False
        samples.append(Sample(ARCHIVER_PAGE, status, time.perf_counter() - began, ok))
        number += 1
        next_at += 1 / rate
    return number


def run_phase(
    stack: Stack,
    variant: str,
    level: int,
    round_number: int,
    options,
    archive: Archive,
    member_cookies: dict[str, list[requests.cookies.RequestsCookieJar]],
    members: list[CasUser],
) -> Phase:
    site = stack.sites[variant].base_url
    samples: list[Sample] = []
    began = time.monotonic()
    deadline = began + options.seconds
    phase = f"{level}.{round_number}"
    clients = [
        threading.Thread(
            target=client_loop,
            args=(
                site,
                variant,
                random.Random(f"{level}.{round_number}.{client}"),
                deadline,
                options.max_requests,
                archive,
                member_cookies[variant],
                members,
                stack.cas,
                samples,
                client == 0,
            ),
            daemon=True,
        )
        for client in range(level)
    ]
    archived = []
    archiver = threading.Thread(
        target=lambda: archived.append(
            archiver_loop(site, variant, phase, options.archive_rate, deadline, archive, samples)
        ),
        daemon=True,
    )
    for thread in (*clients, archiver):
        thread.start()
    for thread in (*clients, archiver):
        thread.join(options.seconds + TIMEOUT + 5)
    elapsed = time.monotonic() - began
    return Phase(
        variant, level, round_number, elapsed, list(samples), archived[0] if archived else 0
    )


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user and system) that the live processes ``pids`` have used so far,
    with that of the children they reaped (the task queue replaces its workers)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def cpu_meters(stack: Stack, variant: str) -> dict[str, Callable[[], float]]:
    """What ``Phase.cpu`` measures: a function per part, its CPU seconds so far."""
    site, cas = stack.sites[variant], stack.cas.process.pid
    return {
        "web": lambda: cpu_seconds(site.worker_pids()),
        "tasks": lambda: cpu_seconds(site.task_queue_pids()),
        "cas": lambda: cpu_seconds([cas, *descendants(cas)]),
    }


def drain_task_queue(phase: Phase, limit: float = 120.0) -> None:
    """Wait until the task queue has done the tasks ``phase`` left (hyperkitty's, on new
    mail and votes), so that the next phase, the other site's, does not pay for them."""
    from django_q.models import OrmQ

    began = time.monotonic()
    phase.tasks_left = OrmQ.objects.count()
    while OrmQ.objects.exists() and time.monotonic() - began < limit:
        time.sleep(0.2)
    phase.drain_seconds = time.monotonic() - began


def warm_up(stack: Stack, archive: Archive, members: list[CasUser]) -> dict:
    """Each page once on each site, and every member logged in once: their sessions."""
    cookies: dict[str, list[requests.cookies.RequestsCookieJar]] = {}
    failures = []
    for variant in VARIANTS:
        samples: list[Sample] = []
        site = stack.sites[variant].base_url
        rng = random.Random("warm-up")
        cookies[variant] = []
        for person in members:
            browser = Browser(site, samples)
            if log_in(browser, variant, person, stack.cas):
                # A page with a form gives the CSRF cookie that the votes need.
                browser.get("message", f"/archives/list/{LIST}/message/{archive.messages[0]}/")
                cookies[variant].append(browser.http.cookies.copy())
        pages: list[Sample] = []
        client_loop(
            site, variant, rng, time.monotonic() + 30, 40, archive, cookies[variant],
            members, stack.cas, pages,
        )  # fmt: skip
        samples += pages
        failures += [
            f"{variant} {sample.page}: {sample.status}" for sample in samples if not sample.ok
        ]
    if failures:
        raise SystemExit("The warm-up failed:\n" + "\n".join(sorted(set(failures))))
    return cookies


# --- Figures -----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (sorted or not)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def quantile_interval(
    values: list[float], fraction: float, confidence: float
) -> tuple[float | None, float | None]:
    """A distribution-free interval of the ``fraction`` quantile of what ``values`` sample:
    the order statistics that enclose it with probability ``confidence`` or more (binomial).
    A side is None when too few values bound it (a p99's upper side at 95 % takes 368)."""
    ordered = sorted(values)
    count = len(ordered)
    tail = (1 - confidence) / 2
    # below[k]: the probability that k values or fewer fall below the quantile.
    below, total = [], 0.0
    for k in range(count + 1):
        total += math.exp(
            math.lgamma(count + 1) - math.lgamma(k + 1) - math.lgamma(count - k + 1)
            + k * math.log(fraction) + (count - k) * math.log1p(-fraction)
        )  # fmt: skip
        below.append(total)
    lower = max((k for k in range(1, count + 1) if below[k - 1] <= tail), default=None)
    upper = min((k for k in range(1, count + 1) if below[k - 1] >= 1 - tail), default=None)
    return (
        ordered[lower - 1] if lower else None,
        ordered[upper - 1] if upper else None,
    )


def p99_ratio_interval(bundle: list[float], stock: list[float]) -> dict:
    """The interval of a page's p99 ratio bundle / stock at 95 % (each site's p99 at 97.5 %),
    and what it shows of the goal: "within", "above" or "not shown" (an open side)."""
    each_site = math.sqrt(0.95)  # both sites' intervals hold together at 95 %
    (bundle_low, bundle_high), (stock_low, stock_high) = (
        quantile_interval(values, 0.99, each_site) for values in (bundle, stock)
    )
    low = bundle_low / stock_high if bundle_low and stock_high else None
    high = bundle_high / stock_low if bundle_high and stock_low else None
    shows = "not shown"
    if low and low > P99_GOAL:
        shows = "above"
    elif high and high <= P99_GOAL:
        shows = "within"
    return {"low": low, "high": high, "shows": shows}


def self_p99_ratio(phases: list[Phase]) -> dict[str, float]:
    """Per page, one site's p99 of its even rounds against its odd rounds' (as far from 1
    either way): how far the measure moves between two halves of one site's run."""
    even, odd = (
        seconds_by_page([s for p in phases if p.round % 2 == half for s in p.samples])
        for half in (0, 1)
    )
    ratios = {
        page: percentile(even[page], 0.99) / percentile(odd[page], 0.99)
        for page in sorted(set(even) & set(odd))
        if site_page(page)
    }
    return {page: max(ratio, 1 / ratio) for page, ratio in ratios.items()}


def site_page(page: str) -> bool:
    """Whether ``page`` is a request to mailman-web (not the CAS server's)."""
    return not page.startswith("cas:")


def seconds_by_page(samples: list[Sample]) -> dict[str, list[float]]:
    """Each page's request times (seconds), in the order of ``samples``."""
    pages: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        pages[sample.page].append(sample.seconds)
    return pages


def page_percentiles(samples: list[Sample]) -> dict[str, dict]:
    """Per page: how many requests, p50/p95/p99 in milliseconds."""
    pages = seconds_by_page(samples)
    return {
        page: {
            "count": len(values),
            "p50_ms": 1000 * percentile(values, 0.50),
            "p95_ms": 1000 * percentile(values, 0.95),
            "p99_ms": 1000 * percentile(values, 0.99),
        }
        for page, values in sorted(pages.items())
    }


def login_p99_ratio(bundle: dict, stock: dict) -> float | None:
    """A login's p99 ratio: its requests to mailman-web (CAS round trip or form), added up."""
    logins = [
        sum(side[page]["p99_ms"] for page in LOGIN_PAGES[variant])
        for variant, side in (("bundle", bundle), ("stock", stock))
        if all(page in side for page in LOGIN_PAGES[variant])
    ]
    return logins[0] / logins[1] if len(logins) == 2 else None


def cpu_per_request(phases: list[Phase]) -> dict[str, float]:
    """CPU milliseconds per mailman-web request, per part (``Phase.cpu``), over ``phases``."""
    served = sum(1 for phase in phases for sample in phase.samples if site_page(sample.page))
    parts = sorted({part for phase in phases for part in phase.cpu})
    return {part: 1000 * sum(phase.cpu[part] for phase in phases) / served for part in parts}


def p99_round_ratios(phases: list[Phase]) -> dict[str, dict]:
    """Per page, the p99 ratio of each round (the two sites' phases of one round paired,
    as the throughput is), and its median and maximum over the rounds."""
    rounds: dict[str, list[float]] = defaultdict(list)
    for number in sorted({phase.round for phase in phases}):
        bundle, stock = (
            page_percentiles(
                next(p for p in phases if p.round == number and p.variant == v).samples
            )
            for v in VARIANTS
        )
        for page in sorted(set(bundle) & set(stock)):
            if site_page(page):
                rounds[page].append(bundle[page]["p99_ms"] / stock[page]["p99_ms"])
        if login := login_p99_ratio(bundle, stock):
            rounds[LOGIN].append(login)
    return {
        page: {"median": statistics.median(ratios), "max": max(ratios), "rounds": ratios}
        for page, ratios in sorted(rounds.items())
    }


def figures_of(phases: list[Phase], options, started: dict, setup: dict) -> dict:
    levels = sorted({phase.level for phase in phases})
    by_level: dict = {}
    for level in levels:
        entry: dict = {"variants": {}, "ratios": {}}
        of_level = {
            variant: [p for p in phases if p.level == level and p.variant == variant]
            for variant in VARIANTS
        }
        for variant in VARIANTS:
            mine = of_level[variant]
            rates = [sum(1 for s in p.samples if site_page(s.page)) / p.seconds for p in mine]
            errors: dict[str, Counter] = defaultdict(Counter)
            for phase in mine:
                for sample in phase.samples:
                    if not sample.ok:
                        errors[sample.page][str(sample.status)] += 1
            entry["variants"][variant] = {
                "requests_per_second": {
                    "median": statistics.median(rates),
                    "min": min(rates),
                    "max": max(rates),
                    "rounds": rates,
                },
                "requests": sum(len(p.samples) for p in mine),
                "archived": sum(p.archived for p in mine),
                "cpu_ms_per_request": cpu_per_request(mine),
                "tasks_left": summary(p.tasks_left for p in mine),
                "drain_seconds": summary(p.drain_seconds for p in mine),
                "pages": page_percentiles([s for p in mine for s in p.samples]),
                "errors": {page: dict(counts) for page, counts in sorted(errors.items())},
            }
        bundle, stock = (entry["variants"][variant] for variant in VARIANTS)
        pairs = zip(
            bundle["requests_per_second"]["rounds"],
            stock["requests_per_second"]["rounds"],
            strict=True,
        )
        throughput = [ours / theirs for ours, theirs in pairs]
        entry["ratios"]["throughput"] = {
            "min": min(throughput),
            "median": statistics.median(throughput),
            "rounds": throughput,
        }
        common = sorted(set(bundle["pages"]) & set(stock["pages"]))
        entry["ratios"]["p99"] = {
            page: bundle["pages"][page]["p99_ms"] / stock["pages"][page]["p99_ms"]
            for page in common
            if site_page(page)
        }
        if login := login_p99_ratio(bundle["pages"], stock["pages"]):
            entry["ratios"]["p99"][LOGIN] = login
        if "web" in bundle["cpu_ms_per_request"]:
            entry["ratios"]["web_cpu_per_request"] = (
                bundle["cpu_ms_per_request"]["web"] / stock["cpu_ms_per_request"]["web"]
            )
        entry["ratios"]["p99_rounds"] = p99_round_ratios([*of_level["bundle"], *of_level["stock"]])
        seconds = {
            variant: seconds_by_page([s for p in of_level[variant] for s in p.samples])
            for variant in VARIANTS
        }
        entry["ratios"]["p99_interval"] = {
            page: p99_ratio_interval(seconds["bundle"][page], seconds["stock"][page])
            for page in entry["ratios"]["p99"]
            if page != LOGIN
        }
        entry["ratios"]["p99_self"] = {
            variant: self_p99_ratio(of_level[variant]) for variant in VARIANTS
        }
        by_level[str(level)] = entry
    faults = RESULTS / "faults.json"
    return {
        "time": started["time"],
        "commit": started["commit"],
        "machine": started["machine"],
        "load_start": started["load"],
        "load_end": " ".join(f"{value:.1f}" for value in os.getloadavg()),
        "options": {
            "emails": options.emails,
            "levels": levels,
            "rounds": options.rounds,
            "seconds": options.seconds,
            "max_requests": options.max_requests,
            "archive_rate": options.archive_rate,
            "members": options.members,
            "hot_members": HOT,
            "mix": MIX,
            "uwsgi_workers": dict(DEBIAN_WORKERS),
        },
        "setup_seconds": setup,
        "goals": {"throughput": THROUGHPUT_GOAL, "p99": P99_GOAL},
        "levels": by_level,
        "errors": sum(
            sum(sum(counts.values()) for counts in entry["variants"][variant]["errors"].values())
            for entry in by_level.values()
            for variant in VARIANTS
        ),
        "faults": json.loads(faults.read_text()) if faults.exists() else None,
        "phases": [
            {
                "variant": p.variant,
                "level": p.level,
                "round": p.round,
                "seconds": p.seconds,
                "cpu_seconds": p.cpu,
                "samples": [[s.page, s.status, round(1000 * s.seconds, 1)] for s in p.samples],
            }
            for p in phases
        ],
    }


def markdown(figures: dict, reproduce: str) -> str:
    options = figures["options"]
    workers = ", ".join(f"{key} = {value}" for key, value in options["uwsgi_workers"].items())
    lines = [
        "# Load: the bundle and Debian's stock site under uwsgi",
        "",
        f"`benchmarks/load.py`, {figures['time']} UTC, commit {figures['commit']}; "
        f"{figures['machine']}. Load average (1, 5, 15 min) at the start "
        f"{figures['load_start']}, at the end {figures['load_end']}.",
        f"Reproduce: `{reproduce}`.",
        "",
        f"uwsgi with Debian 13's options ({workers}, "
        "master, enable-threads, the task queue attached), both sites at once on one "
        f"PostgreSQL database: a list of {options['emails']:,} emails and its Whoosh index, "
        "Mailman core 3.3.10, django-cas-server. At each level, "
        f"{options['rounds']} rounds of {options['seconds']:g} s per site, the sites taking "
        "turns (the first alternating); each client a closed loop (no think time) over the "
        f"mix below, the same seeded sequence on both sites; core's archiver posting "
        f"{options['archive_rate']:g} new mails a second besides. Requests/s: mailman-web's "
        "requests (the CAS server's not counted), median and minimum over the rounds; "
        "percentiles: the rounds pooled. Ratios bundle / stock: throughput per round "
        f"(goal >= {figures['goals']['throughput']}), p99 per page "
        f"(goal <= {figures['goals']['p99']}), of the rounds pooled and per round (the two "
        "sites' phases of a round paired, as for the throughput: median and maximum over "
        "the rounds). A p99 ratio's interval: 95 % that the two sites' true p99s are in that "
        "ratio (each site's p99 between two of its requests, by the binomial law, "
        "distribution-free; requests taken as independent); an interval is open on a side "
        "where a site has too few requests (the upper side of its p99 takes 435). One site "
        "against itself: its even rounds' p99 over its odd rounds' (or the inverse), the "
        "worst page: how much the p99 moves with no change at all. "
        "Between phases the benchmark waits until the task queue has done the "
        "tasks the phase left (hyperkitty's, on new mail and votes), which the next phase "
        "would pay for otherwise.",
        "",
        "Mix (weights): "
        + ", ".join(f"{page} {weight}" for page, weight in options["mix"].items())
        + f". Logins: {options['members']} members, half the logins by {options['hot_members']} "
        "of them (one member in several tabs); the bundle's through the CAS server, the stock "
        "site's through its login form (MD5 hashes, no rate limit: `load_stock_settings`).",
        "",
        "| clients | bundle req/s (median / min) | stock req/s (median / min) "
        "| ratio (median / min) "
        "| worst p99 ratio, pooled (page) | worst p99 ratio, rounds' median (page) "
        "| pages whose p99 interval is within / above the goal / open "
        "| one site against itself: worst p99 ratio, stock / bundle "
        "| errors bundle / stock |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for level, entry in figures["levels"].items():
        bundle, stock = (entry["variants"][variant] for variant in VARIANTS)
        ratio = entry["ratios"]["throughput"]
        worst_page, worst = max(entry["ratios"]["p99"].items(), key=lambda item: item[1])
        rounds = entry["ratios"].get("p99_rounds", {})
        worst_in_rounds = max(
            ((page, ratios["median"]) for page, ratios in rounds.items()),
            key=lambda item: item[1],
            default=None,
        )
        errors = [
            sum(sum(counts.values()) for counts in side["errors"].values())
            for side in (bundle, stock)
        ]
        lines.append(
            f"| {level} | {bundle['requests_per_second']['median']:.1f} / "
            f"{bundle['requests_per_second']['min']:.1f} "
            f"| {stock['requests_per_second']['median']:.1f} / "
            f"{stock['requests_per_second']['min']:.1f} "
            f"| {ratio['median']:.3f} / {ratio['min']:.3f} | {worst:.3f} ({worst_page}) "
            + (f"| {worst_in_rounds[1]:.3f} ({worst_in_rounds[0]}) " if worst_in_rounds else "| — ")
            + f"| {interval_counts(entry['ratios'])} | {self_ratios(entry['ratios'])} "
            + f"| {errors[0]} / {errors[1]} |"
        )
    for level, entry in figures["levels"].items():
        bundle, stock = (entry["variants"][variant] for variant in VARIANTS)
        lines += [
            "",
            f"## {level} client{'s' if level != '1' else ''}",
            "",
            "| page | bundle n | p50 / p95 / p99 ms | stock n | p50 / p95 / p99 ms | p99 ratio "
            "| its 95 % interval | per round: median / max |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        rounds = entry["ratios"].get("p99_rounds", {})
        for page in sorted(set(bundle["pages"]) | set(stock["pages"])):
            cells = []
            for side in (bundle, stock):
                found = side["pages"].get(page)
                cells += (
                    [
                        str(found["count"]),
                        f"{found['p50_ms']:.0f} / {found['p95_ms']:.0f} / {found['p99_ms']:.0f}",
                    ]
                    if found
                    else ["", "—"]
                )
            ratio = entry["ratios"]["p99"].get(page)
            lines.append(
                f"| {page} | {' | '.join(cells)} | {f'{ratio:.3f}' if ratio else '—'} "
                f"| {interval_cell(entry['ratios'].get('p99_interval', {}).get(page))} "
                f"| {round_ratios(rounds, page) if ratio else '—'} |"
            )
        if LOGIN in entry["ratios"]["p99"]:
            lines.append(
                f"| {LOGIN} (p99s added up) | | | | | {entry['ratios']['p99'][LOGIN]:.3f} "
                f"| — | {round_ratios(rounds, LOGIN)} |"
            )
        drained = [
            f"{variant} {side['tasks_left']['median']:g} tasks "
            f"({side['drain_seconds']['max']:.1f} s)"
            for variant, side in (("bundle", bundle), ("stock", stock))
            if "tasks_left" in side
        ]
        cpu = [
            f"{variant} "
            + ", ".join(f"{part} {ms:.0f}" for part, ms in side["cpu_ms_per_request"].items())
            for variant, side in (("bundle", bundle), ("stock", stock))
            if side.get("cpu_ms_per_request")
        ]
        if cpu:
            lines.append(
                "\nCPU ms per mailman-web request (uwsgi's workers, the task queue, the CAS "
                f"server): {'; '.join(cpu)}; workers' ratio bundle / stock "
                f"{entry['ratios']['web_cpu_per_request']:.3f}."
            )
        if drained:
            lines.append(
                "\nLeft in the task queue at the end of a phase (median; the longest wait): "
                + ", ".join(drained)
                + "."
            )
        for variant, side in (("bundle", bundle), ("stock", stock)):
            if side["errors"]:
                described = "; ".join(
                    f"{page}: "
                    + ", ".join(f"{status} ×{count}" for status, count in counts.items())
                    for page, counts in side["errors"].items()
                )
                lines.append(f"\nErrors ({variant}): {described}.")
    setup = figures["setup_seconds"]
    if figures.get("uwsgi"):
        lines += [
            "",
            "uwsgi ran, per site: "
            + "; ".join(f"{variant} {note}" for variant, note in figures["uwsgi"].items())
            + " (Debian's `process = 2` is no uwsgi option: docs/production.md).",
        ]
    lines += [
        "",
        "Setup (s): " + ", ".join(f"{what} {seconds:.1f}" for what, seconds in setup.items()) + ".",
    ]
    if figures["faults"]:
        lines += ["", "## Faults in the middle of the load (benchmarks/results/faults.json)", ""]
        lines += faults_lines(figures["faults"])
    return "\n".join(lines) + "\n"


def interval_cell(interval: dict | None) -> str:
    """A page's p99 ratio interval: low – high, ≥ low or ≤ high when a side is open."""
    low, high = (interval or {}).get("low"), (interval or {}).get("high")
    if low and high:
        return f"{low:.2f} – {high:.2f}"
    return f"≥ {low:.2f}" if low else f"≤ {high:.2f}" if high else "open"


def interval_counts(ratios: dict) -> str:
    """How many pages' p99 intervals are within the goal, above it, open."""
    shows = Counter(interval["shows"] for interval in ratios.get("p99_interval", {}).values())
    return f"{shows['within']} / {shows['above']} / {shows['not shown']}"


def self_ratios(ratios: dict) -> str:
    """The worst page's p99 ratio of each site against itself (even rounds / odd rounds)."""
    sides = ratios.get("p99_self", {})
    return " / ".join(
        f"{max(sides[variant].values()):.2f}" if sides.get(variant) else "—"
        for variant in ("stock", "bundle")
    )


def round_ratios(rounds: dict, page: str) -> str:
    """The cell of a page's per-round p99 ratios: median / max."""
    found = rounds.get(page)
    return f"{found['median']:.3f} / {found['max']:.3f}" if found else "—"


def faults_lines(faults: dict) -> list[str]:
    """One line per fault of the faults benchmark: what failed, and for how long."""
    lines = ["| fault | failed requests | seconds |", "|---|---|---|"]
    for name, entry in faults.get("faults", {}).items():
        failed = [
            f"{key.replace('_', ' ')} {value['failed']}/{value['requests']}"
            for key, value in entry.items()
            if isinstance(value, dict) and "failed" in value
        ]
        seconds = [
            f"{key.replace('_', ' ')} {value:g}"
            for key, value in entry.items()
            if "seconds" in key and isinstance(value, (int, float))
        ]
        lines.append(f"| {name} | {'; '.join(failed)} | {'; '.join(seconds)} |")
    return lines


# --- The run -----------------------------------------------------------------------------


def machine(database: str) -> str:
    import platform

    import psycopg2

    connection = psycopg2.connect(
        dbname=database,
        host=os.environ.get("MAILMAN_WEB_DB_HOST", "127.0.0.1"),
        port=os.environ.get("MAILMAN_WEB_DB_PORT", "5432"),
        user=os.environ.get("MAILMAN_WEB_DB_USER", "mailman3web"),
        password=os.environ.get("MAILMAN_WEB_DB_PASSWORD", "mailman3web"),
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (postgres,) = cursor.fetchone()
    connection.close()
    uwsgi = subprocess.run(
        [str(Path(sys.executable).parent / "uwsgi"), "--version"], capture_output=True, text=True
    )
    return (
        f"Python {platform.python_version()}, PostgreSQL {postgres}, uwsgi {uwsgi.stdout.strip()}, "
        f"{os.cpu_count()} CPU(s), {platform.machine()}"
    )


def set_up_django(stack: Stack) -> None:
    """This process on the bundle's settings and the benchmark's database (to seed it)."""
    os.environ.update(environment(stack, "bundle"))
    import django

    django.setup()


def run(options) -> dict:
    started = {
        "time": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        "load": " ".join(f"{value:.1f}" for value in os.getloadavg()),
        "commit": commit(),
    }
    setup: dict[str, float] = {}
    members = [member(number) for number in range(options.members)]
    with contextlib.ExitStack() as stop:
        if options.folder:
            folder = options.folder.resolve()
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        else:
            folder = Path(stop.enter_context(tempfile.TemporaryDirectory(prefix="load-bench-")))
        database = stop.enter_context(scratch_database("load"))
        started["machine"] = machine(database)
        sink = SMTPSink(folder / "sent-mail", free_port())
        sink.start()
        stop.callback(sink.stop)
        core = MailmanCore(folder / "core", stop.enter_context(core_database()), sink.port)
        cas = CasServer(folder / "cas", free_port(), users=members)
        stack = Stack(folder, database, core, cas)
        # Core and the CAS server start (tens of seconds on a busy machine) while the
        # database is migrated and seeded.
        pool = ThreadPoolExecutor(max_workers=2)
        stop.callback(pool.shutdown)
        stop.callback(core.stop)
        stop.callback(cas.stop)
        setup_began = time.monotonic()
        core_started = pool.submit(start_core, core, members)
        cas_started = pool.submit(cas.start)
        began = time.monotonic()
        envs = {variant: environment(stack, variant) for variant in VARIANTS}
        manage(envs["bundle"], "migrate", "--no-input", "-v", "0")
        setup["migrate"] = time.monotonic() - began
        print(f"  {list(setup)[-1]}: {setup[list(setup)[-1]]:.1f} s", flush=True)
        set_up_django(stack)
        archive, setup["seed"] = seed(options.emails, members)
        # The search index (~2 min for 10 000 emails) while the static files are prepared.
        began = time.monotonic()
        index_env = {**envs["bundle"], "MAILMAN_WEB_BASE_DIR": str(folder / "index")}
        (folder / "index" / "logs").mkdir(parents=True)
        indexing = subprocess.Popen(
            [str(Path(sys.executable).parent / "mailman-web"), "update_index_one_list", LIST],
            env=index_env, cwd=folder / "index", stdout=subprocess.DEVNULL,
            stderr=(folder / "index" / "update_index.log").open("w"),
        )  # fmt: skip
        stop.callback(lambda: indexing.poll() is None and indexing.kill())
        for variant in VARIANTS:
            setup[f"static files ({variant})"] = prepare_static(variant, envs[variant])
        if indexing.wait() != 0:
            log = (folder / "index" / "update_index.log").read_text()
            raise SystemExit(f"update_index_one_list failed: {log[-2000:]}")
        setup["search index (Whoosh)"] = time.monotonic() - began
        print(f"  {list(setup)[-1]}: {setup[list(setup)[-1]]:.1f} s", flush=True)
        began = time.monotonic()
        core_started.result()
        cas_started.result()
        setup["waiting for core and the CAS server"] = time.monotonic() - began
        for variant in VARIANTS:
            shutil.copytree(
                folder / "index" / "fulltext_index", folder / variant / "fulltext_index"
            )
        began = time.monotonic()
        for variant in VARIANTS:
            site = start_uwsgi(folder / variant, envs[variant])
            stop.callback(site.stop)
            stack.sites[variant] = site
        setup["uwsgi"] = time.monotonic() - began
        print(f"  {list(setup)[-1]}: {setup[list(setup)[-1]]:.1f} s", flush=True)
        began = time.monotonic()
        cookies = warm_up(stack, archive, members)
        setup["warm-up"] = time.monotonic() - began
        setup["total"] = time.monotonic() - setup_began
        print(f"Set up in {setup['total']:.0f} s", flush=True)
        phases = []
        for level in options.levels:
            for round_number in range(options.rounds):
                order = VARIANTS if (round_number + level) % 2 == 0 else VARIANTS[::-1]
                for variant in order:
                    meters = cpu_meters(stack, variant)
                    before = {part: meter() for part, meter in meters.items()}
                    phase = run_phase(
                        stack, variant, level, round_number, options, archive, cookies, members
                    )
                    drain_task_queue(phase)
                    phase.cpu = {part: meter() - before[part] for part, meter in meters.items()}
                    phases.append(phase)
                    bad = sum(1 for sample in phase.samples if not sample.ok)
                    served = sum(1 for sample in phase.samples if site_page(sample.page))
                    print(
                        f"{level:>2} clients, round {round_number + 1}, {variant}: "
                        f"{served / phase.seconds:.1f} req/s, {bad} errors, "
                        f"{phase.tasks_left} tasks left ({phase.drain_seconds:.1f} s)",
                        flush=True,
                    )
        for variant, site in stack.sites.items():
            workers = site.spawned_workers()
            setup_note = (
                f"{len(workers)} worker(s), {workers[0][2] if workers else '?'} thread(s) each"
            )
            started[f"uwsgi_{variant}"] = setup_note
        return figures_of(phases, options, started, setup) | {
            "uwsgi": {variant: started[f"uwsgi_{variant}"] for variant in VARIANTS}
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: small list, 2 levels, short phases"
    )
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per phase")
    parser.add_argument(
        "--max-requests", type=int, default=20_000, help="requests per phase at most"
    )
    parser.add_argument("--members", type=int, default=MEMBERS, help="members who log in")
    parser.add_argument("--archive-rate", type=float, default=1.0, help="new mails a second")
    parser.add_argument("--folder", type=Path, help="keep the sites' files and logs there")
    parser.add_argument("--output", type=Path, help="where to write the .json and .md (a stem)")
    parser.add_argument(
        "--report", type=Path, help="only write the .md again from this run's .json"
    )
    options = parser.parse_args(argv)
    if options.report:
        figures = json.loads(options.report.read_text())
        quick = figures["options"]["emails"] < 10_000
        reproduce = ".ci/postgres .venv/bin/python benchmarks/load.py" + (
            " --quick" if quick else ""
        )
        options.report.with_suffix(".md").write_text(markdown(figures, reproduce))
        return 0
    if options.quick:
        options.emails, options.levels, options.rounds, options.seconds = 300, "1,4", 1, 4.0
        options.members = HOT
    options.levels = [int(level) for level in str(options.levels).split(",")]
    stem = options.output or RESULTS / ("load-quick" if options.quick else "load")
    figures = run(options)
    reproduce = ".ci/postgres .venv/bin/python benchmarks/load.py" + (
        " --quick" if options.quick else ""
    )
    text = markdown(figures, reproduce)
    stem.parent.mkdir(parents=True, exist_ok=True)
    # Every request of every phase (page, status, ms), for another reading of the run.
    samples = stem.with_name(f"{stem.name}-samples.json")
    samples.write_text(json.dumps(figures.pop("phases")) + "\n")
    stem.with_suffix(".json").write_text(json.dumps(figures, indent=2) + "\n")
    stem.with_suffix(".md").write_text(text)
    print(text, f"Written to {stem}.md, .json and {samples.name}", sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
