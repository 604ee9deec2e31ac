"""The load benchmark's smoke run: ``benchmarks/load.py --quick`` on the suite's PostgreSQL.

The whole stack for real (uwsgi with Debian's options, both sites, core, the
CAS server), a small list and two short levels: the report is well formed and
no request failed.
"""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.production


def test_quick_run_reports_both_sites_without_errors(tmp_path):
    stem = tmp_path / "load"
    result = subprocess.run(
        [sys.executable, "benchmarks/load.py", "--quick", "--output", str(stem)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(stem.with_suffix(".json").read_text())
    assert figures["errors"] == 0
    assert list(figures["levels"]) == ["1", "4"]
    for entry in figures["levels"].values():
        for variant in ("bundle", "stock"):
            side = entry["variants"][variant]
            assert side["errors"] == {}
            assert side["requests_per_second"]["median"] > 0
            assert side["archived"] > 0
            assert "archiver: new mail" in side["pages"]
            assert side["cpu_ms_per_request"]["web"] > 0
            for page in side["pages"].values():
                assert page["count"] > 0
                assert 0 < page["p50_ms"] <= page["p95_ms"] <= page["p99_ms"]
        assert entry["ratios"]["throughput"]["median"] > 0
        assert entry["ratios"]["p99"]
        assert entry["ratios"]["web_cpu_per_request"] > 0
        intervals = entry["ratios"]["p99_interval"]
        assert set(intervals) == set(entry["ratios"]["p99"]) - {"login (mailman-web's requests)"}
        # A few dozen requests a page: no side of a p99 is bounded.
        assert {interval["shows"] for interval in intervals.values()} == {"not shown"}
        for ratios in entry["ratios"]["p99_rounds"].values():
            assert 0 < ratios["median"] <= ratios["max"]
            assert len(ratios["rounds"]) == 1  # --quick: one round
    # Both sites' logins and members' pages were measured.
    pages = {
        variant: set().union(
            *(entry["variants"][variant]["pages"] for entry in figures["levels"].values())
        )
        for variant in ("bundle", "stock")
    }
    assert {"login: start (CAS)", "login: callback (CAS)", "cas: login post"} <= pages["bundle"]
    assert {"login: form", "login: post"} <= pages["stock"]
    # Every request is kept, and the task queue was done between phases.
    phases = json.loads(stem.with_name("load-samples.json").read_text())
    assert len(phases) == 4
    assert sum(len(phase["samples"]) for phase in phases) == sum(
        entry["variants"][variant]["requests"]
        for entry in figures["levels"].values()
        for variant in ("bundle", "stock")
    )
    report = stem.with_suffix(".md").read_text()
    assert "| clients | bundle req/s (median / min)" in report
    assert "## 4 clients" in report


@pytest.fixture
def load(monkeypatch):
    """benchmarks/load.py as a module, for this test only. Its ``from measuring import``
    gets ``benchmarks.measuring``, so that no module is imported under two names."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    monkeypatch.setitem(sys.modules, "measuring", importlib.import_module("benchmarks.measuring"))
    spec = importlib.util.spec_from_file_location("load", REPO / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "load", module)
    spec.loader.exec_module(module)
    return module


def test_a_p99_interval_needs_435_requests_for_its_upper_side(load):
    values = [float(number) for number in range(1, 1001)]
    assert load.quantile_interval(values, 0.99, 0.95) == (983.0, 997.0)
    assert load.quantile_interval(values[:434], 0.99, 0.95**0.5)[1] is None
    assert load.quantile_interval(values[:435], 0.99, 0.95**0.5)[1] == 435.0
    assert load.quantile_interval(values[:20], 0.99, 0.95) == (19.0, None)


def test_p99_ratio_interval_tells_within_above_and_not_shown(load):
    rng = random.Random(7)
    stock = [rng.expovariate(1.0) for _ in range(20_000)]
    same = [rng.expovariate(1.0) for _ in range(20_000)]
    slower = [1.3 * value for value in same]
    assert load.p99_ratio_interval(slower, stock)["shows"] == "above"
    within = load.p99_ratio_interval([0.9 * value for value in same], stock)
    assert within["shows"] == "within" and within["low"] < 0.9 < within["high"] <= 1.05
    assert load.p99_ratio_interval(same[:300], stock[:300]) == {
        "low": None,
        "high": None,
        "shows": "not shown",
    }
