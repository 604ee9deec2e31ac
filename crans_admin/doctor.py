"""What is wrong with the running deployment, and how to fix it.

``mailman-web crans_doctor`` and the admin's "Deployment check" page run the
checks of this module. Each check is a function that looks at one part of the
deployment (settings, database, Mailman core, the archiver, the Site, static
files, translations, the search index, the CAS server, the lists, the task
queue, outgoing mail) and returns a :class:`Finding`: a status, what was seen
and, unless all is well, the fix in one sentence. :func:`run_checks` runs the
checks in parallel threads, each within its own timeout, and returns a
:class:`Report`. Nothing is changed, except that the task queue check hands
the queue a task that does nothing, to see it run.
"""

from __future__ import annotations

import configparser
import enum
import hmac
import logging
import os
import re
import smtplib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from django.apps import apps
from django.conf import settings
from django.contrib.sites.models import Site
from django.core import checks as system_checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http.request import split_domain_port, validate_host
from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .text import first_line

logger = logging.getLogger(__name__)

# Where Debian's mailman3 package keeps the archiver's configuration of core.
DEFAULT_HYPERKITTY_CFG = "/etc/mailman3/mailman-hyperkitty.cfg"
THEME_APP = "mailman_crans_theme"
PROVIDER_APP = "allauth_cas_crans"
# Share of a check's timeout given to one network request, so that the check
# itself says what did not answer before its timeout runs out.
NETWORK_SHARE = 0.6
# hyperkitty indexes new emails hourly (its update_index job): older
# unindexed emails mean that the job does not run.
INDEX_LAG = timedelta(hours=2)
# Tasks of the ORM broker waiting longer than this: no cluster takes them.
QUEUE_STALL = timedelta(minutes=2)
# Files or lists named in a finding before "and N more".
SHOWN = 5
COMPRESS_TAG = re.compile(r"{%\s*compress\b")
# The apps whose pages members see (the admin's other apps speak English).
MEMBER_APPS = frozenset(
    {
        THEME_APP,
        PROVIDER_APP,
        "crans_admin",
        "postorius",
        "hyperkitty",
        "django_mailman3",
        "allauth",
        "django",
    }
)
# mtimes of a .po and its .mo written by one installation differ by moments.
CATALOGUE_SLACK = 60.0


class Status(enum.IntEnum):
    """The outcome of a check, also the exit status of ``crans_doctor``."""

    OK = 0
    WARNING = 1
    ERROR = 2

    @property
    def key(self) -> str:
        """The untranslated name, for ``--json``."""
        return self.name.lower()

    @property
    def label(self) -> str:
        return {
            Status.OK: _("ok"),
            Status.WARNING: _("warning"),
            Status.ERROR: _("error"),
        }[self]


@dataclass(frozen=True)
class Finding:
    """What a check saw and, when something is wrong, the fix in one sentence."""

    status: Status
    seen: str
    fix: str = ""
    details: tuple[str, ...] = ()


def ok(seen: str, details: Iterable[str] = ()) -> Finding:
    return Finding(Status.OK, seen, "", tuple(details))


def warning(seen: str, fix: str, details: Iterable[str] = ()) -> Finding:
    return Finding(Status.WARNING, seen, fix, tuple(details))


def error(seen: str, fix: str, details: Iterable[str] = ()) -> Finding:
    return Finding(Status.ERROR, seen, fix, tuple(details))


class Found(Exception):
    """Raised by a helper of a check: ``finding`` is the check's answer."""

    def __init__(self, finding: Finding):
        super().__init__(finding.seen)
        self.finding = finding


@dataclass(frozen=True)
class Check:
    name: str
    title: str  # lazy
    function: Callable[[float], Finding]
    timeout: float  # seconds


@dataclass(frozen=True)
class CheckResult:
    """A finding with the check it comes from and how long it took."""

    name: str
    title: str
    finding: Finding
    seconds: float

    @property
    def status(self) -> Status:
        return self.finding.status

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "title": str(self.title),
            "status": self.status.key,
            "seen": self.finding.seen,
            "fix": self.finding.fix,
            "details": list(self.finding.details),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Report:
    results: tuple[CheckResult, ...]
    seconds: float

    @property
    def status(self) -> Status:
        return max((result.status for result in self.results), default=Status.OK)

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status == status)

    def as_dict(self) -> dict:
        return {
            "status": self.status.key,
            "seconds": round(self.seconds, 3),
            "checks": [result.as_dict() for result in self.results],
        }


CHECKS: dict[str, Check] = {}


def check(name: str, title: str, timeout: float = 10.0):
    """Register the decorated function as the check ``name``."""

    def register(function: Callable[[float], Finding]) -> Callable[[float], Finding]:
        CHECKS[name] = Check(name, title, function, timeout)
        return function

    return register


class _Run:
    """One check running in a thread of its own (a daemon: a hung check never blocks exit)."""

    def __init__(self, check: Check, language: str | None):
        self.check = check
        self.finding: Finding | None = None
        self.seconds = 0.0
        self.began = time.monotonic()
        self.thread = threading.Thread(
            target=self.run, args=(language,), name=f"crans_doctor {check.name}", daemon=True
        )
        self.thread.start()

    def run(self, language: str | None) -> None:
        try:
            with translation.override(language):
                try:
                    self.finding = self.check.function(self.check.timeout)
                except Found as found:
                    self.finding = found.finding
                except Exception as exception:
                    logger.exception("crans_doctor: the check %s failed", self.check.name)
                    self.finding = error(
                        _("The check failed: %(error)s") % {"error": first_line(exception)},
                        _("Read the traceback in mailman-web's log and correct its cause."),
                    )
        finally:
            connections.close_all()  # this thread's connections only
            self.seconds = time.monotonic() - self.began

    def result(self) -> CheckResult:
        self.thread.join(max(0.0, self.check.timeout - (time.monotonic() - self.began)))
        finding, seconds = self.finding, self.seconds
        if finding is None:  # still running
            seconds = time.monotonic() - self.began
            finding = error(
                _("No answer within %(timeout)g s.") % {"timeout": self.check.timeout},
                _(
                    "Find what hangs (a server that accepts connections but never answers, a "
                    "locked database or index) with mailman-web crans_doctor --check %(name)s."
                )
                % {"name": self.check.name},
            )
        return CheckResult(self.check.name, self.check.title, finding, seconds)


def run_checks(names: Iterable[str] | None = None) -> Report:
    """Run the checks ``names`` (all by default) in parallel; each stops at its timeout."""
    selected = [CHECKS[name] for name in names] if names else list(CHECKS.values())
    began = time.monotonic()
    language = translation.get_language()
    runs = [_Run(check, language) for check in selected]
    return Report(tuple(run.result() for run in runs), time.monotonic() - began)


def network_error(exception: BaseException) -> str:
    """The reason of a failed connection, without the layers of requests and urllib3."""
    text = str(exception)
    reason = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if reason:
        return reason.group(1)
    if isinstance(exception, requests.Timeout | TimeoutError) or "timed out" in text:
        return _("no answer in time")
    return first_line(exception)


def some(items: list[str]) -> str:
    """The first ``SHOWN`` items, and how many more."""
    shown = ", ".join(items[:SHOWN])
    if len(items) > SHOWN:
        shown += " " + _("and %(count)d more") % {"count": len(items) - SHOWN}
    return shown


def network_timeout(timeout: float) -> float:
    return timeout * NETWORK_SHARE


# Settings.


@check("settings", gettext_lazy("Crans' settings are the ones running"))
def check_settings(timeout: float) -> Finding:
    """The theme first, the ``crans`` provider installed, Crans' settings module imported."""
    from allauth.socialaccount.providers import registry

    installed = list(settings.INSTALLED_APPS)
    problems = []
    if installed[:1] != [THEME_APP]:
        problems.append(
            _("the first app is %(app)r, not %(theme)r: the Crans templates are not used")
            % {"app": installed[0] if installed else None, "theme": THEME_APP}
        )
    if PROVIDER_APP not in installed or "crans" not in {
        provider.id for provider in registry.get_class_list()
    }:
        problems.append(_("the CAS provider 'crans' (allauth_cas_crans) is not installed"))
    if not hasattr(settings, "CRANS_SITE_DOMAIN"):
        problems.append(
            _("CRANS_SITE_DOMAIN is not set: the settings do not import crans_mailman_web_settings")
        )
    module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE")
    if problems:
        return error(
            _("Settings %(module)s: %(problems)s.")
            % {"module": module, "problems": "; ".join(problems)},
            _(
                "Make mailman-web's settings file import Crans' settings "
                "(from crans_mailman_web_settings.production import *) and restart mailman-web."
            ),
        )
    return ok(
        _(
            "Settings %(module)s: the theme is the first app, the CAS provider 'crans' and "
            "crans_admin are installed."
        )
        % {"module": module}
    )


@check("deploy", gettext_lazy("Deployment settings (DEBUG, check --deploy)"), timeout=30.0)
def check_deploy(timeout: float) -> Finding:
    """DEBUG off, and what ``mailman-web check --deploy`` reports (silenced checks left out)."""
    messages = [
        message
        for message in system_checks.run_checks(include_deployment_checks=True)
        if not message.is_silenced()
    ]
    errors = sorted({message.id or "?" for message in messages if message.is_serious()})
    warnings = sorted(
        {
            message.id or "?"
            for message in messages
            if not message.is_serious() and message.level >= system_checks.WARNING
        }
    )
    seen = _(
        "DEBUG is %(debug)s; check --deploy: %(errors)d error(s), %(warnings)d warning(s)."
    ) % {
        "debug": _("on") if settings.DEBUG else _("off"),
        "errors": len(errors),
        "warnings": len(warnings),
    }
    details = [*errors, *warnings]
    if settings.DEBUG:
        return error(
            seen,
            _(
                "Set DEBUG = False in the settings and restart mailman-web: with DEBUG on, "
                "error pages show the settings and the code to anyone."
            ),
            details,
        )
    fix = _(
        "Run mailman-web check --deploy and correct what it reports, or list the accepted "
        "warnings in SILENCED_SYSTEM_CHECKS."
    )
    if errors:
        return error(seen, fix, details)
    if warnings:
        return warning(seen, fix, details)
    return ok(seen)


# Database.


@check("database", gettext_lazy("Database reachable and migrated"))
def check_database(timeout: float) -> Finding:
    connection = connections[DEFAULT_DB_ALIAS]
    where = f"{connection.vendor} {connection.settings_dict.get('NAME')}"
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exception:
        return error(
            _("The database (%(where)s) cannot be used: %(error)s")
            % {"where": where, "error": first_line(exception)},
            _("Start the database server, or correct DATABASES (MAILMAN_WEB_DB_* variables)."),
        )
    if unapplied:
        names = [f"{migration.app_label}.{migration.name}" for migration, _backwards in unapplied]
        return error(
            _("The database (%(where)s) lacks %(count)d migration(s): %(names)s.")
            % {"where": where, "count": len(names), "names": some(names)},
            _("Run mailman-web migrate, then restart mailman-web."),
        )
    return ok(_("The database (%(where)s) answers; every migration is applied.") % {"where": where})


# Mailman core.


def core_url() -> str:
    return settings.MAILMAN_REST_API_URL.rstrip("/")


def core_get(path: str, timeout: float) -> dict:
    """GET ``/3.1/<path>`` from core's REST API; raise ``Found`` with the fault otherwise."""
    url = f"{core_url()}/3.1/{path}"
    try:
        response = requests.get(
            url,
            auth=(settings.MAILMAN_REST_API_USER, settings.MAILMAN_REST_API_PASS),
            timeout=network_timeout(timeout),
        )
    except requests.RequestException as exception:
        raise Found(
            error(
                _("Mailman core's REST API at %(url)s does not answer: %(error)s")
                % {"url": core_url(), "error": network_error(exception)},
                _(
                    "Start Mailman core (systemctl start mailman3), or correct "
                    "MAILMAN_REST_API_URL."
                ),
            )
        ) from exception
    if response.status_code == 401:
        raise Found(
            error(
                _("Mailman core at %(url)s refuses the credentials of %(user)r (HTTP 401).")
                % {"url": core_url(), "user": settings.MAILMAN_REST_API_USER},
                _(
                    "Set MAILMAN_REST_API_USER and MAILMAN_REST_API_PASS to admin_user and "
                    "admin_pass of the [webservice] section of core's mailman.cfg, then restart "
                    "mailman-web."
                ),
            )
        )
    if response.status_code != 200:
        raise Found(
            error(
                _("Mailman core answered %(url)s with HTTP %(status)d.")
                % {"url": url, "status": response.status_code},
                _("Read Mailman core's log (mailman.log) for the cause, and correct it."),
            )
        )
    try:
        return response.json()
    except ValueError as exception:
        raise Found(
            error(
                _("%(url)s does not answer as Mailman core does (not JSON).") % {"url": url},
                _("Correct MAILMAN_REST_API_URL: it must name Mailman core's REST API."),
            )
        ) from exception


@check("core", gettext_lazy("Mailman core's REST API"))
def check_core(timeout: float) -> Finding:
    versions = core_get("system/versions", timeout)
    return ok(
        _("%(version)s, REST API %(api)s, at %(url)s with user %(user)r.")
        % {
            "version": versions.get("mailman_version", "?"),
            "api": versions.get("api_version", "?"),
            "url": core_url(),
            "user": settings.MAILMAN_REST_API_USER,
        }
    )


# The archiver: core's mailman-hyperkitty.cfg and hyperkitty's archiver API.


def read_hyperkitty_cfg() -> tuple[Path, str, str]:
    """``(path, base_url, api_key)`` of core's mailman-hyperkitty.cfg; raise ``Found`` otherwise."""
    configured = getattr(settings, "CRANS_MAILMAN_HYPERKITTY_CFG", None)
    path = Path(configured or DEFAULT_HYPERKITTY_CFG)
    fix_path = _(
        "Set CRANS_MAILMAN_HYPERKITTY_CFG to the path of core's mailman-hyperkitty.cfg, "
        "and run this as a user who can read it (root, or the group list on Debian)."
    )
    parser = configparser.ConfigParser()
    try:
        with path.open() as cfg:
            parser.read_file(cfg)
    except FileNotFoundError as exception:
        finding = error if configured else warning
        raise Found(
            finding(
                _("No %(path)s: the archiver's key and address are not checked.") % {"path": path},
                fix_path,
            )
        ) from exception
    except OSError as exception:
        raise Found(
            warning(
                _("%(path)s cannot be read: %(error)s") % {"path": path, "error": exception},
                fix_path,
            )
        ) from exception
    except configparser.Error as exception:
        raise Found(
            error(
                _("%(path)s is not a valid configuration file: %(error)s")
                % {"path": path, "error": first_line(exception)},
                _("Correct %(path)s: a [general] section with base_url and api_key.")
                % {"path": path},
            )
        ) from exception
    base_url = parser.get("general", "base_url", fallback="").strip()
    api_key = parser.get("general", "api_key", fallback="").strip()
    if not base_url or not api_key:
        raise Found(
            error(
                _("%(path)s lacks base_url or api_key in its [general] section.") % {"path": path},
                _("Correct %(path)s: a [general] section with base_url and api_key.")
                % {"path": path},
            )
        )
    return path, base_url, api_key


@check("archiver", gettext_lazy("Archiving: core's key and hyperkitty's archiver API"))
def check_archiver(timeout: float) -> Finding:
    path, base_url, api_key = read_hyperkitty_cfg()
    same_key = hmac.compare_digest(api_key, settings.MAILMAN_ARCHIVER_KEY)
    key_fix = _(
        "Make MAILMAN_ARCHIVER_KEY and the api_key of %(path)s the same secret, then restart "
        "mailman-web and Mailman core."
    ) % {"path": path}
    key_seen = (
        _("The api_key of %(path)s is MAILMAN_ARCHIVER_KEY.")
        if same_key
        else _("The api_key of %(path)s differs from MAILMAN_ARCHIVER_KEY.")
    ) % {"path": path}
    url = urljoin(base_url if base_url.endswith("/") else base_url + "/", "api/mailman/urls")
    site = Site.objects.filter(pk=settings.SITE_ID).first()
    try:
        # Read-only: the URL of a list's archive page, as core asks for it.
        response = requests.get(
            url,
            params={"mlist": f"crans-doctor@{site.domain if site else 'localhost'}"},
            headers={"Authorization": f"Token {api_key}"},
            timeout=network_timeout(timeout),
            allow_redirects=False,
        )
    except requests.RequestException as exception:
        return error(
            _("%(key)s mailman-web does not answer at %(url)s: %(error)s")
            % {"key": key_seen, "url": url, "error": network_error(exception)},
            _(
                "Start mailman-web, or correct base_url in %(path)s: core posts every email "
                "to archive there."
            )
            % {"path": path},
        )
    status = response.status_code
    if status == 401:
        return error(
            _("%(key)s hyperkitty's archiver API at %(url)s refuses core's key (HTTP 401).")
            % {"key": key_seen, "url": url},
            key_fix
            if not same_key
            else _(
                "Restart mailman-web: the running processes have another MAILMAN_ARCHIVER_KEY "
                "than the settings."
            ),
        )
    if status == 403:
        return error(
            _(
                "%(key)s hyperkitty's archiver API at %(url)s refuses requests from this "
                "host's address (HTTP 403): it is not in MAILMAN_ARCHIVER_FROM %(allowed)s."
            )
            % {"key": key_seen, "url": url, "allowed": list(settings.MAILMAN_ARCHIVER_FROM)},
            _(
                "Add the address Mailman core connects from (%(host)s) to "
                "MAILMAN_ARCHIVER_FROM, then restart mailman-web."
            )
            % {"host": urlsplit(url).hostname},
        )
    if status == 400:
        return error(
            _("%(key)s mailman-web refuses the host of %(url)s (HTTP 400).")
            % {"key": key_seen, "url": url},
            _("Add %(host)r to ALLOWED_HOSTS (or correct base_url in %(path)s).")
            % {"host": urlsplit(url).hostname, "path": path},
        )
    if status != 200 or "url" not in _json_or_empty(response):
        return error(
            _("%(key)s %(url)s answered HTTP %(status)d, not hyperkitty's archiver API.")
            % {"key": key_seen, "url": url, "status": status},
            _(
                "Correct base_url in %(path)s: mailman-web's address with hyperkitty's path "
                "(e.g. http://localhost:8000/archives/), served without redirection."
            )
            % {"path": path},
        )
    if not same_key:
        return error(
            _(
                "%(key)s The running mailman-web accepts core's key: its settings changed "
                "since it started."
            )
            % {"key": key_seen},
            key_fix,
        )
    return ok(
        _("%(key)s hyperkitty's archiver API at %(url)s accepts it from this host.")
        % {"key": key_seen, "url": url}
    )


def _json_or_empty(response: requests.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


# The Site.


@check("site", gettext_lazy("The Site: allowed host, lists' mail domains"))
def check_site(timeout: float) -> Finding:
    from django_mailman3.models import MailDomain
    from hyperkitty.models import MailingList

    site = Site.objects.filter(pk=settings.SITE_ID).first()
    if site is None:
        return error(
            _("There is no Site #%(id)d (SITE_ID).") % {"id": settings.SITE_ID},
            _("Create it with mailman-web crans_set_site."),
        )
    host, _port = split_domain_port(site.domain)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:  # as HttpRequest.get_host() does
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not validate_host(host, allowed_hosts):
        return error(
            _(
                "The Site's domain %(domain)r is not in ALLOWED_HOSTS %(allowed)s: Django "
                "answers 400 to every request for it."
            )
            % {"domain": site.domain, "allowed": list(allowed_hosts)},
            _(
                "Add %(host)r to ALLOWED_HOSTS and restart mailman-web, or give the Site its "
                "right domain with mailman-web crans_set_site --domain."
            )
            % {"host": host},
        )
    list_domains = sorted(
        {
            name.rpartition("@")[2].lower()
            for name in MailingList.objects.values_list("name", flat=True)
        }
    )
    mapped = {
        mail_domain.lower(): site_id
        for mail_domain, site_id in MailDomain.objects.values_list("mail_domain", "site_id")
    }
    elsewhere = [domain for domain in list_domains if mapped.get(domain, site.pk) != site.pk]
    unmapped = [domain for domain in list_domains if domain not in mapped and domain != host]
    problems = [
        _("%(domain)s is mapped to Site #%(id)d") % {"domain": domain, "id": mapped[domain]}
        for domain in elsewhere
    ] + [
        _("%(domain)s is mapped to no Site: its archive links point to https://%(domain)s/")
        % {"domain": domain}
        for domain in unmapped
    ]
    seen = _("The Site %(domain)r (%(name)r) is allowed; lists' mail domains: %(domains)s.") % {
        "domain": site.domain,
        "name": site.name,
        "domains": ", ".join(list_domains) or "-",
    }
    if problems:
        return warning(
            seen,
            _(
                "Map each mail domain below to the Site %(domain)r (admin, Mail domains), "
                "so that archive links in emails point to this site."
            )
            % {"domain": site.domain},
            problems,
        )
    return ok(seen)


# Offline compression, static files, translations.


def template_files() -> dict[str, Path]:
    """Every template the Django engines would find, by name (the first found wins)."""
    found: dict[str, Path] = {}

    def folders(loaders) -> Iterable[Path]:
        for loader in loaders:
            if hasattr(loader, "loaders"):  # the cached loader
                yield from folders(loader.loaders)
            elif hasattr(loader, "get_dirs"):
                yield from (Path(folder) for folder in loader.get_dirs())

    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        for folder in folders(engine.engine.template_loaders):
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    found.setdefault(path.relative_to(folder).as_posix(), path)
    return found


@check("compress", gettext_lazy("Offline compression (compress)"), timeout=20.0)
def check_compress(timeout: float) -> Finding:
    if not (settings.COMPRESS_ENABLED and settings.COMPRESS_OFFLINE):
        seen = _("Offline compression is off (COMPRESS_ENABLED, COMPRESS_OFFLINE).")
        if settings.DEBUG:
            return ok(seen)
        return warning(
            seen,
            _(
                "Set COMPRESS_ENABLED and COMPRESS_OFFLINE to True and run mailman-web "
                "compress: otherwise every hyperkitty page compiles its stylesheets."
            ),
        )
    root = Path(settings.COMPRESS_ROOT)
    manifest = root / settings.COMPRESS_OUTPUT_DIR / settings.COMPRESS_OFFLINE_MANIFEST
    fix = _("Run mailman-web compress (after collectstatic), then restart mailman-web.")
    if not manifest.is_file():
        return error(
            _("No offline manifest at %(path)s: every page with a {%% compress %%} block fails.")
            % {"path": manifest},
            fix,
        )
    compressed_at = manifest.stat().st_mtime
    changed = [
        name
        for name, path in template_files().items()
        if path.stat().st_mtime > compressed_at
        and COMPRESS_TAG.search(path.read_text(errors="replace"))
    ]
    if changed:
        return error(
            _(
                "%(count)d template(s) with a {%% compress %%} block changed after the offline "
                "manifest was written: %(names)s. Their pages may fail."
            )
            % {"count": len(changed), "names": some(changed)},
            fix,
        )
    try:
        entries = manifest.read_text()
    except OSError as exception:
        return error(
            _("%(path)s cannot be read: %(error)s") % {"path": manifest, "error": exception}, fix
        )
    # The manifest's entries are HTML naming the compressed files (JSON-escaped).
    output = settings.COMPRESS_OUTPUT_DIR.strip("/")
    named = re.findall(rf"{re.escape(output)}/(?:css|js)/[^\s\"'?#\\]+", entries)
    missing = sorted({name for name in named if not (root / name).is_file()})
    if missing:
        return error(
            _("The offline manifest names files that are missing: %(names)s.")
            % {"names": some(missing)},
            fix,
        )
    return ok(
        _("The offline manifest %(path)s is newer than every template it compresses.")
        % {"path": manifest}
    )


@check("static", gettext_lazy("Static files collected (collectstatic)"), timeout=20.0)
def check_static(timeout: float) -> Finding:
    from django.contrib.staticfiles.finders import get_finders

    fix = _("Run mailman-web collectstatic --noinput (then compress).")
    root = Path(settings.STATIC_ROOT) if settings.STATIC_ROOT else None
    if root is None or not root.is_dir():
        return error(
            _("STATIC_ROOT (%(path)s) is not a folder: no stylesheet, script or image is served.")
            % {"path": root},
            fix,
        )
    sources: dict[str, Path] = {}
    for finder in get_finders():
        for name, storage in finder.list(["CVS", ".*", "*~"]):
            prefix = getattr(storage, "prefix", None)
            sources.setdefault(f"{prefix}/{name}" if prefix else name, Path(storage.path(name)))
    missing, stale = [], []
    for name, source in sorted(sources.items()):
        try:
            collected = (root / name).stat().st_mtime
        except FileNotFoundError:
            missing.append(name)
            continue
        if source.stat().st_mtime > collected:
            stale.append(name)
    if missing:
        return error(
            _("%(count)d of %(total)d static files are missing from %(root)s: %(names)s.")
            % {"count": len(missing), "total": len(sources), "root": root, "names": some(missing)},
            fix,
        )
    if stale:
        return warning(
            _("%(count)d static files changed after they were collected into %(root)s: %(names)s.")
            % {"count": len(stale), "root": root, "names": some(stale)},
            fix,
        )
    return ok(
        _("The %(total)d static files are collected in %(root)s.")
        % {"total": len(sources), "root": root}
    )


def locale_folders() -> list[Path]:
    """LOCALE_PATHS and the ``locale`` folder of each installed app that members see."""
    folders = [Path(folder) for folder in settings.LOCALE_PATHS]
    folders += [
        Path(app.path) / "locale"
        for app in apps.get_app_configs()
        if app.name.partition(".")[0] in MEMBER_APPS
    ]
    return [folder for folder in folders if folder.is_dir()]


@check("translations", gettext_lazy("Compiled translation catalogues (compilemessages)"))
def check_translations(timeout: float) -> Finding:
    offered = {code.lower() for code, _name in settings.LANGUAGES}
    missing: dict[Path, list[str]] = {}
    stale: dict[Path, list[str]] = {}
    catalogues = 0
    for folder in locale_folders():
        for source in sorted(folder.glob("*/LC_MESSAGES/*.po")):
            language = source.parent.parent.name
            if translation.to_language(language) not in offered:
                continue
            catalogues += 1
            compiled = source.with_suffix(".mo")
            if not compiled.is_file():
                missing.setdefault(folder.parent, []).append(f"{language}/{source.name}")
            elif source.stat().st_mtime > compiled.stat().st_mtime + CATALOGUE_SLACK:
                stale.setdefault(folder.parent, []).append(f"{language}/{source.name}")
    problems = missing or stale
    if problems:
        details = [f"{folder}: {some(names)}" for folder, names in problems.items()]
        seen = (
            _("%(count)d catalogue(s) are not compiled: those pages show English.")
            if missing
            else _("%(count)d compiled catalogue(s) are older than their .po file.")
        ) % {"count": sum(len(names) for names in problems.values())}
        fix = _(
            "Run mailman-web compilemessages in each folder below (pip installs the .po "
            "files only), then restart mailman-web."
        )
        return (error if missing else warning)(seen, fix, details)
    return ok(
        _("The %(count)d catalogues of the offered languages are compiled.") % {"count": catalogues}
    )


# The search index.


def missing_index() -> Path | None:
    """The folder of a file-based index (Whoosh, Xapian) that holds no index, else None.

    Checked before haystack opens the index: opening a missing one creates it empty.
    """
    from haystack import connections

    options = connections.connections_info["default"]
    if not options.get("PATH"):  # a search server (Elasticsearch, Solr)
        return None
    folder = Path(options["PATH"])
    if "whoosh" in options.get("ENGINE", "").lower():
        from whoosh.index import exists_in

        present = folder.is_dir() and exists_in(str(folder))
    else:
        present = folder.is_dir() and any(folder.iterdir())
    return None if present else folder


@check("search", gettext_lazy("Search index"), timeout=60.0)
def check_search(timeout: float) -> Finding:
    from haystack.query import SearchQuerySet
    from hyperkitty.models import Email, MailingList

    rebuild = _("Build it again: mailman-web rebuild_index --noinput (it takes a while).")
    folder = missing_index()
    if folder is not None:
        return error(
            _("There is no search index at %(path)s: searching the archives finds nothing.")
            % {"path": folder},
            rebuild,
        )
    documents = SearchQuerySet().models(Email)
    try:
        latest = list(documents.order_by("-archived_date")[:1])
    except Exception as exception:  # each backend raises its own errors
        return error(
            _("The search index cannot be read: %(error)s") % {"error": first_line(exception)},
            rebuild,
        )
    if not latest:
        if Email.objects.exists():
            return error(
                _("The search index is empty, while %(count)d emails are archived.")
                % {"count": Email.objects.count()},
                rebuild,
            )
        return ok(_("The search index is empty, as are the archives."))
    indexed_until = latest[0].archived_date
    drifting, extra = [], []
    for mailing_list in MailingList.objects.order_by("name"):
        indexed = documents.filter(mailinglist__exact=mailing_list.name).count()
        emails = Email.objects.filter(mailinglist=mailing_list)
        expected = emails.filter(archived_date__lte=indexed_until).count()
        total = emails.count()
        if indexed < expected:
            drifting.append(
                _(
                    "%(list)s: %(indexed)d of %(expected)d emails in the index; mailman-web "
                    "update_index_one_list %(list)s"
                )
                % {"list": mailing_list.name, "indexed": indexed, "expected": expected}
            )
        elif indexed > total:
            extra.append(
                _("%(list)s: %(indexed)d documents for %(total)d emails")
                % {"list": mailing_list.name, "indexed": indexed, "total": total}
            )
    if drifting:
        return error(
            _(
                "%(count)d list(s) have emails missing from the search index: searches in "
                "them miss those emails."
            )
            % {"count": len(drifting)},
            _("Reindex each list below with mailman-web update_index_one_list <list>."),
            drifting,
        )
    if extra:
        return warning(
            _("%(count)d list(s) have documents of deleted emails in the search index.")
            % {"count": len(extra)},
            _("Remove them: mailman-web update_index --remove."),
            extra,
        )
    waiting = Email.objects.filter(archived_date__gt=indexed_until)
    oldest = waiting.order_by("archived_date").values_list("archived_date", flat=True).first()
    if oldest is not None and timezone.now() - oldest > INDEX_LAG:
        return warning(
            _("%(count)d emails archived since %(date)s are not indexed yet.")
            % {"count": waiting.count(), "date": oldest.isoformat(timespec="minutes")},
            _(
                "Make cron run mailman-web runjobs hourly: hyperkitty's update_index job "
                "indexes new emails."
            ),
        )
    return ok(
        _("The search index opens and matches the archives of %(count)d list(s).")
        % {"count": MailingList.objects.count()}
    )


# The CAS server.


@check("cas", gettext_lazy("The CAS server"))
def check_cas(timeout: float) -> Finding:
    from allauth_cas_crans.client import CasError, MalformedAnswer, TicketRejected, validate_ticket
    from allauth_cas_crans.conf import crans_settings

    cas = dict(crans_settings())
    cas["TIMEOUT"] = min(cas["TIMEOUT"], network_timeout(timeout) / 2)
    server = cas["SERVER_URL"]
    site = Site.objects.filter(pk=settings.SITE_ID).first()
    domain = site.domain if site else "localhost"
    service = f"{settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL}://{domain}{reverse('crans_callback')}"
    fix_url = _(
        "Start the CAS server, or correct SOCIALACCOUNT_PROVIDERS['crans']['SERVER_URL'] "
        "and restart mailman-web."
    )
    parts = urlsplit(server)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        return error(
            _(
                "The CAS server %(url)s is not reached over https: passwords and tickets "
                "travel in clear."
            )
            % {"url": server},
            _("Give SOCIALACCOUNT_PROVIDERS['crans']['SERVER_URL'] an https:// address."),
        )
    login = urljoin(server, "login")
    try:
        page = requests.get(login, params={"service": service}, timeout=cas["TIMEOUT"])
    except requests.RequestException as exception:
        return error(
            _("The CAS server does not answer at %(url)s: %(error)s")
            % {"url": login, "error": network_error(exception)},
            fix_url,
        )
    if page.status_code != 200 or "html" not in page.headers.get("Content-Type", ""):
        return error(
            _("The CAS login page %(url)s answered HTTP %(status)d (%(type)s), not a page.")
            % {
                "url": login,
                "status": page.status_code,
                "type": page.headers.get("Content-Type", "?"),
            },
            fix_url,
        )
    try:
        validate_ticket(cas, "ST-crans-doctor-not-a-ticket", service)
    except TicketRejected:
        pass  # the answer of a CAS server to a ticket it did not issue
    except MalformedAnswer as exception:
        return error(
            _("The CAS validation endpoint does not answer as CAS does: %(error)s")
            % {"error": exception},
            _("Correct SERVER_URL or VERSION of SOCIALACCOUNT_PROVIDERS['crans']."),
        )
    except CasError as exception:
        return error(
            _("The CAS validation endpoint does not answer: %(error)s")
            % {"error": network_error(exception)},
            fix_url,
        )
    else:
        return error(
            _("The CAS server accepted a ticket it never issued."),
            _("Correct SOCIALACCOUNT_PROVIDERS['crans']['SERVER_URL']: it is not a CAS server."),
        )
    return ok(
        _(
            "The CAS server %(url)s shows its login page and refuses an unknown ticket "
            "(CAS protocol %(version)s)."
        )
        % {"url": server, "version": cas["VERSION"]}
    )


# Lists in core and in hyperkitty.


def core_lists(timeout: float) -> dict[str, str]:
    """Core's lists: posting address (lowercase) -> list-id."""
    answer = core_get("lists", timeout)
    return {entry["fqdn_listname"].lower(): entry["list_id"] for entry in answer.get("entries", [])}


@check("lists", gettext_lazy("Lists in Mailman core and in hyperkitty"), timeout=20.0)
def check_lists(timeout: float) -> Finding:
    from hyperkitty.models import MailingList

    from .rename import unfinished_renames

    in_core = core_lists(timeout)
    archives = {row[0]: row[1:] for row in MailingList.objects.values_list("name", "list_id", "id")}
    by_lowercase: dict[str, list[str]] = {}
    for name in archives:
        by_lowercase.setdefault(name.lower(), []).append(name)
    errors, warnings = [], []
    for rename in unfinished_renames():
        errors.append(
            _(
                "%(old)s -> %(new)s: rename #%(id)d unfinished since %(date)s; mailman-web "
                "rename_list --resume %(id)d (or --rollback %(id)d)"
            )
            % {
                "old": rename.old_name,
                "new": rename.new_name,
                "id": rename.pk,
                "date": rename.started_at.isoformat(timespec="minutes"),
            }
        )
    for names in by_lowercase.values():
        if len(names) > 1:
            errors.append(
                _("%(names)s: one list archived under several names")
                % {"names": ", ".join(sorted(names))}
            )
    for name, (list_id, _pk) in sorted(archives.items()):
        local_part, _at, domain = name.partition("@")
        expected = in_core.get(name.lower(), f"{local_part}.{domain}")
        if list_id != expected:
            errors.append(
                _("%(name)s: list-id %(list_id)r, expected %(expected)r; mailman-web mailman_sync")
                % {"name": name, "list_id": list_id, "expected": expected}
            )
    archived = {name.lower() for name in archives}
    only_core = sorted(set(in_core) - archived)
    only_archives = sorted(name for name in archives if name.lower() not in in_core)
    # A rename done in core only: the old name keeps the archives, and the
    # archiver creates an empty list under the new one.
    empty = set(
        MailingList.objects.filter(name__in=[name for name in archives if name.lower() in in_core])
        .filter(emails__isnull=True)
        .values_list("name", flat=True)
    )
    orphans = [
        name
        for name in only_archives
        if MailingList.objects.filter(name=name, emails__isnull=False).exists()
    ]
    for old in orphans:
        domain = old.partition("@")[2]
        candidates = sorted(name for name in empty if name.partition("@")[2] == domain)
        if len(candidates) == 1:
            errors.append(
                _(
                    "%(old)s (archives, not in core) and %(new)s (in core, no archive): an "
                    "unfinished rename? mailman-web rename_list %(old)s %(new)s"
                )
                % {"old": old, "new": candidates[0]}
            )
            empty.discard(candidates[0])
        else:
            warnings.append(
                _(
                    "%(name)s: archives of a list that core does not have (deleted, or renamed "
                    "in core only: mailman-web rename_list %(name)s <new name>)"
                )
                % {"name": name}
            )
    warnings += [
        _("%(name)s: an empty archive of a list that core does not have") % {"name": name}
        for name in only_archives
        if name not in orphans
    ]
    warnings += [
        _("%(name)s: in core, not in hyperkitty (mailman-web runjob new_lists_from_mailman)")
        % {"name": name}
        for name in only_core
    ]
    seen = _("%(core)d list(s) in core, %(archives)d in hyperkitty.") % {
        "core": len(in_core),
        "archives": len(archives),
    }
    if errors:
        return error(
            seen,
            _("Correct each list below with the command it names."),
            [*errors, *warnings],
        )
    if warnings:
        return warning(
            seen,
            _(
                "Look at each list below: delete the archives of lists deleted on purpose (admin, "
                "Mailing lists), or run the command it names."
            ),
            warnings,
        )
    return ok(seen + " " + _("They agree."))


# The task queue.


def probe() -> str:
    """The task the task queue check hands to the queue: it does nothing."""
    return "crans_doctor"


@check("tasks", gettext_lazy("Task queue (django-q cluster)"), timeout=15.0)
def check_tasks(timeout: float) -> Finding:
    from django_q.conf import Conf
    from django_q.models import OrmQ, Task
    from django_q.tasks import async_task

    fix = _(
        "Start mailman-web's task queue (mailman-web qcluster, e.g. systemctl start "
        "mailman3-web-qcluster); without it hyperkitty's caches and list details go stale."
    )
    if Conf.SYNC:
        return ok(_("Tasks run in the process that queues them (Q_CLUSTER sync): no cluster."))
    now = timezone.now()
    if Conf.ORM:
        waiting = OrmQ.objects.using(Conf.ORM).filter(lock__lt=now - QUEUE_STALL)
        oldest = waiting.order_by("lock").values_list("lock", flat=True).first()
        if oldest is not None:
            return error(
                _(
                    "%(count)d task(s) have been waiting in the queue since %(date)s: no "
                    "cluster runs."
                )
                % {"count": waiting.count(), "date": oldest.isoformat(timespec="seconds")},
                fix,
            )
    last = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    last_seen = last.isoformat(timespec="seconds") if last else _("no task yet")
    # Saved even where successes are not (save_limit -1), to be seen.
    task_id = async_task(f"{__name__}.probe", save=True)
    deadline = time.monotonic() + network_timeout(timeout)
    while time.monotonic() < deadline:
        if Task.objects.filter(id=task_id).exists():
            return ok(
                _("The cluster ran a test task at once (task before it: %(last)s).")
                % {"last": last_seen}
            )
        time.sleep(0.1)
    return error(
        _("The cluster did not run a test task within %(seconds)d s (last task: %(last)s).")
        % {"seconds": network_timeout(timeout), "last": last_seen},
        fix,
    )


# Outgoing mail.


@check("smtp", gettext_lazy("Outgoing mail (SMTP server)"))
def check_smtp(timeout: float) -> Finding:
    backend = settings.EMAIL_BACKEND
    if backend != "django.core.mail.backends.smtp.EmailBackend":
        return warning(
            _("EMAIL_BACKEND is %(backend)s: mailman-web sends no mail.") % {"backend": backend},
            _("Set EMAIL_BACKEND to django.core.mail.backends.smtp.EmailBackend."),
        )
    host, port = settings.EMAIL_HOST, settings.EMAIL_PORT
    smtp_class = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
    try:
        with smtp_class(host, port, timeout=network_timeout(timeout)) as server:
            if settings.EMAIL_USE_TLS:
                server.starttls()
            code, answer = server.noop()
    except (OSError, smtplib.SMTPException) as exception:
        return error(
            _("The SMTP server %(host)s:%(port)s does not accept a connection: %(error)s")
            % {"host": host, "port": port, "error": network_error(exception)},
            _(
                "Start the mail server (e.g. systemctl start postfix), or correct EMAIL_HOST "
                "and EMAIL_PORT."
            ),
        )
    if code != 250:
        return error(
            _("The SMTP server %(host)s:%(port)s answered %(code)d %(answer)s.")
            % {"host": host, "port": port, "code": code, "answer": answer.decode(errors="replace")},
            _("Read the mail server's log for the cause, and correct it."),
        )
    return ok(
        _("The SMTP server %(host)s:%(port)s accepts connections.") % {"host": host, "port": port}
    )
