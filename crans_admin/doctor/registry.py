"""The doctor's framework: findings, the registry of checks, and running them.

A check is a function of its timeout (seconds) that returns a :class:`Finding`,
registered with :func:`check`; a helper of a check may raise
:class:`~.exceptions.Found` with the check's answer. :func:`run_checks` runs
the checks in parallel threads, each within its own timeout, and returns a
:class:`Report`.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connections
from django.utils import translation
from django.utils.translation import gettext as _

from ..text import first_line
from .exceptions import Found

logger = logging.getLogger(__name__)

# Files or lists named in a finding before "and N more".
SHOWN = 5


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


def some(items: list[str]) -> str:
    """The first ``SHOWN`` items, and how many more."""
    shown = ", ".join(items[:SHOWN])
    if len(items) > SHOWN:
        shown += " " + _("and %(count)d more") % {"count": len(items) - SHOWN}
    return shown


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


# The checks by name, in the order they were registered: the order of the report.
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
