"""Benchmark of the old-name redirect middleware: 404s of list names never renamed.

Run it from the repository root, on a throw-away PostgreSQL cluster:

    .ci/postgres .venv/bin/python benchmarks/redirects.py [--rounds 21] [--requests 200]

Every page of a list that does not exist ends in a 404, which the middleware
(``crans_admin.rename.redirects.OldListNameRedirectMiddleware``) looks at: a
name the journal of renames knows becomes a 301. This measures what that costs
for the names it does not know, the common case (robots, typos, lists long
deleted): requests for ``/archives/list/r<random>@lists.example.org/``,
through Django's test client (no HTTP server: the ratio is the stricter for it),
DEBUG off, with a journal of ``--renames`` renames.

Two clients, one with Crans' middleware chain and one without the redirect
middleware, ask for each of ``--requests`` random names per round in turn (the
first alternating). The tables give, over ``--rounds`` rounds, requests per
second and this process's CPU time per request, the ratios with / without of
each round (minimum and median; goal: <= 1.05), the SQL queries of one 404 in
each chain, and those of the first 404 after the cache is cleared (what a
process pays once per cache timeout). Written to benchmarks/results/redirects.md
and redirects.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import tempfile
import time
from datetime import datetime, timezone

from measuring import RESULTS, commit, load, machine, setup_django, summary

MIDDLEWARE = "crans_admin.rename.redirects.OldListNameRedirectMiddleware"
DOMAIN = "lists.example.org"
GOAL = 1.05
VARIANTS = ("with", "without")


def seed_journal(renames: int) -> None:
    """``renames`` lists, each renamed once (the journal's rows, as the rename writes them)."""
    from django.utils import timezone as django_timezone
    from hyperkitty.models import MailingList

    from crans_admin.models import ListRename

    lists = MailingList.objects.bulk_create(
        MailingList(name=f"renamed{number}@{DOMAIN}", list_id=f"renamed{number}.{DOMAIN}")
        for number in range(renames)
    )
    ListRename.objects.bulk_create(
        ListRename(
            mailing_list_id=mailing_list.pk,
            old_name=f"former{number}@{DOMAIN}",
            old_list_id=f"former{number}.{DOMAIN}",
            new_name=mailing_list.name,
            new_list_id=mailing_list.list_id,
            plan={},
            actor="benchmark",
            state=ListRename.DONE,
            finished_at=django_timezone.now(),
        )
        for number, mailing_list in enumerate(lists)
    )


def clients() -> dict:
    """A test client per variant, each with its middleware chain loaded once."""
    from django.conf import settings
    from django.test import Client, override_settings

    assert MIDDLEWARE in settings.MIDDLEWARE, "the settings do not use the middleware"
    chains = {
        "with": list(settings.MIDDLEWARE),
        "without": [name for name in settings.MIDDLEWARE if name != MIDDLEWARE],
    }
    loaded = {}
    for variant, chain in chains.items():
        with override_settings(MIDDLEWARE=chain):
            client = Client()
            client.handler.load_middleware()
        loaded[variant] = client
    return loaded


def url(number: int) -> str:
    return f"/archives/list/r{number}@{DOMAIN}/"


def queries_of_one_404(client, path: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 404
    return [query["sql"] for query in captured.captured_queries]


def measure(rounds: int, requests: int) -> dict:
    from django.core.cache import cache

    from crans_admin.rename.redirects import former_names

    chains = clients()
    for client in chains.values():  # warm up: templates, URL resolvers, the cache
        for number in range(50):
            assert client.get(url(number)).status_code == 404
    queries = {variant: queries_of_one_404(chains[variant], url(1)) for variant in VARIANTS}
    cache.clear()
    cold = queries_of_one_404(chains["with"], url(2))
    reload = []
    for _attempt in range(21):  # what a process pays once per timeout: the names read again
        cache.clear()
        start = time.perf_counter()
        former_names()
        reload.append(time.perf_counter() - start)
    wall = {variant: [] for variant in VARIANTS}
    cpu = {variant: [] for variant in VARIANTS}
    for round_number in range(rounds):
        names = random.Random(round_number).sample(range(10**9), requests)
        spent = {variant: [0.0, 0.0] for variant in VARIANTS}
        # Each name asked by both chains in turn, the first alternating: whatever else
        # loads the machine weighs on both alike. The garbage collector waits for the
        # end of the round (as in timeit): its runs would fall on one chain more.
        gc.collect()
        gc.disable()
        for index, number in enumerate(names):
            for variant in VARIANTS if (round_number + index) % 2 == 0 else VARIANTS[::-1]:
                start, start_cpu = time.perf_counter(), time.process_time()
                chains[variant].get(url(number))
                spent[variant][0] += time.perf_counter() - start
                spent[variant][1] += time.process_time() - start_cpu
        gc.enable()
        for variant in VARIANTS:
            wall[variant].append(spent[variant][0] / requests)
            cpu[variant].append(spent[variant][1] / requests)
        print(
            f"round {round_number + 1}: "
            + ", ".join(
                f"{variant} {1 / wall[variant][-1]:.0f} req/s, {cpu[variant][-1] * 1000:.2f} ms CPU"
                for variant in VARIANTS
            ),
            flush=True,
        )
    return {
        "wall": wall,
        "cpu": cpu,
        "queries": queries,
        "cold_queries": cold,
        "reload": summary(reload),
    }


def report(measured: dict, options, started: dict) -> tuple[str, dict]:
    wall, cpu = measured["wall"], measured["cpu"]
    rates = {variant: summary(1 / seconds for seconds in wall[variant]) for variant in VARIANTS}
    cpu_ms = {variant: summary(1000 * seconds for seconds in cpu[variant]) for variant in VARIANTS}
    # Per round, time per request with / without: the two chains ran side by side.
    ratios = {
        measure: summary(
            ours / baseline for ours, baseline in zip(times["with"], times["without"], strict=True)
        )
        for measure, times in (("wall", wall), ("cpu", cpu))
    }
    figures = {
        "time": started["time"],
        "commit": started["commit"],
        "machine": machine(),
        "load_start": started["load"],
        "load_end": load(),
        "rounds": options.rounds,
        "requests": options.requests,
        "renames": options.renames,
        "goal": GOAL,
        "requests_per_second": rates,
        "cpu_ms_per_request": cpu_ms,
        "ratios_with_over_without": ratios,
        "queries_per_404": {variant: len(measured["queries"][variant]) for variant in VARIANTS},
        "queries_of_the_first_404_after_a_cache_clear": measured["cold_queries"],
        "former_names_read_s": measured["reload"],
        "runs": {"wall_s_per_request": wall, "cpu_s_per_request": cpu},
    }
    lines = [
        "# Old-name redirect middleware: 404s of list names never renamed",
        "",
        f"`benchmarks/redirects.py`, {started['time']} UTC, commit {started['commit']}; "
        f"{figures['machine']}.",
        f"Load average (1, 5, 15 min) at the start {started['load']}, at the end "
        f"{figures['load_end']}.",
        "Reproduce: `.ci/postgres .venv/bin/python benchmarks/redirects.py`.",
        "",
        f"`/archives/list/r<random>@{DOMAIN}/` through Django's test client, DEBUG off, a "
        f"journal of {options.renames:,} renames; {options.rounds} rounds of "
        f"{options.requests} names, each asked by both chains in turn (the first "
        "alternating). CPU: this process's time per request (PostgreSQL's is not in it); "
        "ratios: time per request with / without the middleware, per round (the minimum "
        f"and the median over the rounds). Goal: <= {GOAL}.",
        "",
        "| middleware | requests/s (min / median / max) | CPU ms per request (min / median) "
        "| SQL queries per 404 |",
        "|---|---:|---:|---:|",
    ]
    for variant in VARIANTS:
        rate, spent = rates[variant], cpu_ms[variant]
        lines.append(
            f"| {variant} | {rate['min']:.0f} / {rate['median']:.0f} / {rate['max']:.0f} "
            f"| {spent['min']:.2f} / {spent['median']:.2f} "
            f"| {figures['queries_per_404'][variant]} |"
        )
    lines += [
        "",
        "| ratio with / without | min | median | max |",
        "|---|---:|---:|---:|",
        *(
            f"| {measure} | {ratio['min']:.3f} | {ratio['median']:.3f} | {ratio['max']:.3f} |"
            for measure, ratio in ratios.items()
        ),
        "",
        f"The first 404 after the cache is cleared: {len(measured['cold_queries'])} "
        "SQL queries: the former names are read again, once per process and cache timeout "
        f"(`FORMER_NAMES_TIMEOUT`), in {measured['reload']['median'] * 1000:.1f} ms "
        f"(median; min {measured['reload']['min'] * 1000:.1f} ms) for {options.renames:,} "
        "renames.",
    ]
    return "\n".join(lines) + "\n", figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--requests", type=int, default=200, help="requests per round and chain")
    parser.add_argument("--renames", type=int, default=500, help="renames in the journal")
    options = parser.parse_args()
    started = {
        "time": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        "load": load(),
        "commit": commit(),
    }
    with tempfile.TemporaryDirectory(prefix="redirects-bench-") as folder:
        setup_django(folder)
        from django.conf import settings
        from django.test.utils import setup_databases, teardown_databases

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        databases = setup_databases(verbosity=0, interactive=False)
        try:
            seed_journal(options.renames)
            text, figures = report(measure(options.rounds, options.requests), options, started)
        finally:
            teardown_databases(databases, verbosity=0)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "redirects.md").write_text(text)
    (RESULTS / "redirects.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(text, f"Written to {RESULTS}/redirects.md and .json", sep="\n")


if __name__ == "__main__":
    main()
