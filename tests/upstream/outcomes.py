"""A pytest plugin (``-p tests.upstream.outcomes``): each test's outcome, as JSON.

Writes ``{node id: "passed" | "failed" | "skipped" | "xfailed" | "xpassed"}`` to
the file named by CRANS_UPSTREAM_OUTCOMES: a test fails if any of its phases
(setup, call, teardown) fails.
"""

import json
import os
from pathlib import Path

import pytest

_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        outcome = "failed"
    elif report.skipped:
        outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
    elif report.when == "call":
        outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
    else:
        return
    if _outcomes.get(report.nodeid) != "failed":
        _outcomes[report.nodeid] = outcome


def pytest_sessionfinish(session: pytest.Session) -> None:
    Path(os.environ["CRANS_UPSTREAM_OUTCOMES"]).write_text(json.dumps(_outcomes, indent=1))
