"""Faults in the middle of a load, on the site under uwsgi as Debian 13 runs it.

One stack for the module (``tests.fixtures.production.Stack``): PostgreSQL of
its own, django-cas-server, Mailman core, the bundle's production settings
under uwsgi with Debian's options. Each test runs a bounded background load
(three clients on 127.0.0.1), causes one fault, checks what the site did and
records what it cost (failed requests, seconds until healthy) in
``benchmarks/results/faults.json``. Figures and advice: docs/production.md.
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from devstack.cas_server import submit_login_form
from devstack.processes import wait_until
from devstack.uwsgi import DEBIAN_WORKERS
from tests.allauth_versions import AUTH_ERROR_STATUS
from tests.fixtures.background_load import BackgroundLoad, Sample, fetch, summary
from tests.fixtures.production import (
    LIST_ADDRESS,
    MEMBER,
    Stack,
    archive_through_api,
    messages,
    record_cost,
    site_paths,
)

pytestmark = pytest.mark.production

# The provider's TIMEOUT (allauth_cas_crans/conf.py) in the production settings.
CAS_TIMEOUT = 10.0
# Seconds after a peer is back within which every request must succeed again.
HEALTHY_WITHIN = 2.0


def archive_paths(stack: Stack) -> list[str]:
    paths = site_paths(stack.query, LIST_ADDRESS)
    return [paths["index"], paths["overview"], paths["thread"], paths["message"]]


def all_paths(stack: Stack) -> list[str]:
    return list(site_paths(stack.query, LIST_ADDRESS).values())


def healthy_after(load: BackgroundLoad, since: float) -> float | None:
    """Seconds from ``since`` to the start of the first request after which every one succeeded."""
    samples = sorted(load.between(since), key=lambda sample: sample.started)
    failed = [index for index, sample in enumerate(samples) if not sample.ok]
    rest = samples[failed[-1] + 1 :] if failed else samples
    return round(rest[0].started - since, 2) if rest else None


def failures(samples: list[Sample]) -> list[Sample]:
    return [sample for sample in samples if not sample.ok]


class MemberBrowser:
    """A member's HTTP client; the production cookies are Secure: kept for 127.0.0.1 too."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.http = requests.Session()

    def get(self, url: str, timeout: float = 30) -> requests.Response:
        response = self.http.get(url, allow_redirects=False, timeout=timeout)
        for cookie in self.http.cookies:
            cookie.secure = False
        return response

    def callback_url(self) -> str:
        """Start a CAS login and log in on the CAS; the site's callback URL with the ticket."""
        start = self.get(f"{self.site}/accounts/crans/login/")
        assert start.status_code == 302, start.text
        page = self.get(start.headers["Location"])
        answer = submit_login_form(self.http, page, MEMBER.username, MEMBER.password)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]


def test_debian_process_option_runs_one_worker(stack):
    """Debian's ``process = 2`` is no uwsgi option: one worker with two threads answers."""
    assert ("process", "2") in DEBIAN_WORKERS
    assert [cores for _, _, cores in stack.site.spawned_workers()] == [2]
    assert len(stack.site.worker_pids()) == 1
    assert "unknown config directive" not in stack.site.log_text()


def test_processes_option_runs_that_many_workers(stack, tmp_path):
    site = stack.start_site(tmp_path / "web", workers=(("processes", "2"), ("threads", "2")))
    assert [cores for _, _, cores in site.spawned_workers()] == [2, 2]
    assert len(site.worker_pids()) == 2
    site.stop()


@pytest.mark.parametrize("workers", ["debian", "processes=2"])
def test_worker_killed(stack, tmp_path, workers):
    """kill -9 of a worker under load: the master replaces it; only the requests it held fail."""
    site = stack.site
    if workers != "debian":
        site = stack.start_site(tmp_path / "web", workers=(("processes", "2"), ("threads", "2")))
    stack.ensure_core()
    with BackgroundLoad(site.base_url, all_paths(stack)) as load:
        load.wait_for(20)
        victim = site.worker_pids()[0]
        master, others = site.pid, set(site.worker_pids()) - {victim}
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        respawned = wait_until_respawned(site, victim)
        load.wait_for(30)
        window = load.between(killed - 1)
    lost = failures(window)
    cost = {
        "workers": workers,
        "failed_requests": len(lost),
        "failures": sorted({sample.error or str(sample.status) for sample in lost}),
        "seconds_until_respawned": round(respawned - killed, 3),
        "seconds_until_healthy": healthy_after(load, killed),
        "requests": summary(window),
    }
    record_cost(f"worker killed ({workers})", cost)
    assert site.pid == master
    assert others <= set(site.worker_pids())
    assert victim not in site.worker_pids()
    # The requests the worker held (at most one per thread), none after.
    assert len(lost) <= 2, cost
    assert all(sample.status == 0 for sample in lost), cost
    assert cost["seconds_until_healthy"] is not None and cost["seconds_until_healthy"] < 3, cost
    if site is not stack.site:
        site.stop()


def wait_until_respawned(site, victim: int, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = site.worker_pids()
        if victim not in pids and len(pids) == len(site.spawned_workers()):
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"uwsgi did not replace worker {victim}; see {site.log}")


def task_queue_seconds(stack: Stack, site, tag: str) -> float:
    """A message archived through ``site``: seconds until the task queue (uwsgi's attached
    qcluster, which saw the restart too) has done the tasks hyperkitty queued for it."""
    (since,) = stack.query("SELECT now()")[0]
    began = time.monotonic()
    archive_through_api(site, LIST_ADDRESS, next(messages(LIST_ADDRESS, 1, tag)))
    wait_until(
        lambda: (
            stack.query("SELECT count(*) FROM django_q_ormq")[0][0] == 0
            and stack.query("SELECT count(*) FROM django_q_task WHERE started >= %s", since)[0][0]
        ),
        "the task queue does the tasks of a message archived after the restart",
        timeout=60,
    )
    return round(time.monotonic() - began, 2)


@pytest.mark.parametrize("conn_max_age", [0, 60])
def test_postgresql_restarted(stack, tmp_path, conn_max_age):
    """PostgreSQL restarted under load: themed 500 pages meanwhile, healthy within seconds."""
    site = stack.site
    if conn_max_age:
        site = stack.start_site(
            tmp_path / "web", env={"MAILMAN_WEB_DB_CONN_MAX_AGE": str(conn_max_age)}
        )
    master, workers = site.pid, site.worker_pids()
    with BackgroundLoad(site.base_url, archive_paths(stack)) as load:
        load.wait_for(20)
        stopped = time.monotonic()
        stack.postgresql.stop()
        time.sleep(1)  # requests meet the stopped server
        stack.postgresql.start()
        started = time.monotonic()
        load.wait_until(started + HEALTHY_WITHIN + 3)
        window = load.between(stopped)
        after = load.between(started + HEALTHY_WITHIN)
    failed = failures(window)
    unthemed = [
        sample
        for sample in failed
        if not (sample.status == 500 and sample.themed and sample.body_mark == "server error page")
    ]
    cost = {
        "conn_max_age": conn_max_age,
        "database_down_seconds": round(started - stopped, 2),
        "failed_requests": len(failed),
        "failures_not_themed": len(unthemed),
        "seconds_until_healthy_after_restart": healthy_after(load, started),
        "requests": summary(window),
        "task_queue_seconds_after_restart": task_queue_seconds(stack, site, f"pg{conn_max_age}"),
    }
    record_cost(f"PostgreSQL restarted (CONN_MAX_AGE={conn_max_age})", cost)
    assert not unthemed, cost
    assert after and not failures(after), cost
    assert site.pid == master and site.worker_pids() == workers
    if site is not stack.site:
        site.stop()


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_cas_server_fault(stack, fault):
    """The CAS stopped (refused) or hung (SIGSTOP: connects, never answers) at ticket validation.

    The member gets the provider's error page within TIMEOUT; other pages are served.
    """
    stack.ensure_core()
    browser = MemberBrowser(stack.site.base_url)
    callback = browser.callback_url()
    with BackgroundLoad(stack.site.base_url, archive_paths(stack)) as load:
        load.wait_for(20)
        calm = load.between(time.monotonic() - 3)
        if fault == "stopped":
            stack.cas.stop()
        else:
            os.kill(stack.cas.process.pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            answer = browser.get(callback, timeout=60)
            ended = time.monotonic()
            # The other pages while the member waited, and in the 2 s after.
            load.wait_until(max(ended, began + 2))
            during = load.between(began, time.monotonic())
        finally:
            if fault == "stopped":
                stack.cas.start()
            else:
                os.kill(stack.cas.process.pid, signal.SIGCONT)
    cost = {
        "fault": fault,
        "timeout_setting": CAS_TIMEOUT,
        "seconds_to_error_page": round(ended - began, 2),
        "other_requests_during": summary(during),
        "other_requests_before": summary(calm),
    }
    record_cost(f"CAS server {fault}", cost)
    assert answer.status_code == AUTH_ERROR_STATUS, answer.text
    assert "cannot be reached" in answer.text
    assert cost["seconds_to_error_page"] < CAS_TIMEOUT + 2, cost
    if fault == "hung":
        assert cost["seconds_to_error_page"] > CAS_TIMEOUT - 1, cost
    assert during and not failures(during), cost
    # The other thread of the worker served the load meanwhile.
    assert max(sample.seconds for sample in during) < 5, cost


@pytest.mark.parametrize("workers", ["debian", "processes=2"])
def test_two_members_at_a_hung_cas(stack, tmp_path, workers):
    """Two members come back from a hung CAS at once: with Debian's one worker, both threads wait.

    Measured, not judged, for Debian's options (docs/production.md); with two
    workers the other pages are served meanwhile.
    """
    site = stack.site
    if workers != "debian":
        site = stack.start_site(tmp_path / "web", workers=(("processes", "2"), ("threads", "2")))
    stack.ensure_core()
    browsers = [MemberBrowser(site.base_url) for _ in range(2)]
    callbacks = [browser.callback_url() for browser in browsers]
    with BackgroundLoad(site.base_url, archive_paths(stack)) as load:
        load.wait_for(10)
        os.kill(stack.cas.process.pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(MemberBrowser.get, browsers, callbacks))
            ended = time.monotonic()
            load.wait_until(ended + 1)
            # The other requests that were running while the members waited.
            during = [
                sample
                for sample in load.between(began - 30)
                if sample.ended > began + 0.5 and sample.started < ended
            ]
        finally:
            os.kill(stack.cas.process.pid, signal.SIGCONT)
    slowest = max((sample.seconds for sample in during), default=None)
    cost = {
        "workers": workers,
        "seconds_to_both_error_pages": round(ended - began, 2),
        "slowest_other_request_seconds": round(slowest, 2) if slowest else None,
        "other_requests_during": summary(during),
    }
    record_cost(f"CAS server hung, two members at once ({workers})", cost)
    assert all(answer.status_code == AUTH_ERROR_STATUS for answer in answers), cost
    assert cost["seconds_to_both_error_pages"] < CAS_TIMEOUT + 2, cost
    assert not failures(during), cost
    if workers != "debian":
        assert during and slowest < 5, cost
        site.stop()


def test_site_healthy_at_the_end(stack):
    """After the faults above: no uwsgi restart, every page answers."""
    stack.ensure_core()
    for path in all_paths(stack):
        assert fetch(stack.site.base_url, path).status == 200, path
    assert "goodbye" not in stack.site.log_text().lower()


def test_mailman_core_stopped(stack):
    """Core stopped: archives served, postorius' themed "unavailable" page at once.

    Last of the module: core stays stopped (starting it again costs ~10 to 40 s here).
    """
    stack.ensure_core()
    paths = site_paths(stack.query, LIST_ADDRESS)
    with BackgroundLoad(stack.site.base_url, all_paths(stack), max_seconds=180) as load:
        load.wait_for(20)
        before = time.monotonic()
        stack.core.stop()
        stopped = time.monotonic()
        load.wait_for(30)
        window = load.between(stopped)
    archives = [sample for sample in window if sample.path != paths["lists"]]
    lists = [sample for sample in window if sample.path == paths["lists"]]
    cost = {
        "core_stop_seconds": round(stopped - before, 2),
        "archive_requests": summary(archives),
        "postorius_requests": summary(lists),
        "failed_archive_requests": len(failures(archives)),
    }
    record_cost("Mailman core stopped", cost)
    assert archives and not failures(archives), cost
    assert lists and all(
        sample.status == 503 and sample.body_mark == "core unavailable page" and sample.themed
        for sample in lists
    ), cost
    # No worker stuck: every request answered within seconds.
    assert max(sample.seconds for sample in window) < 5, cost
