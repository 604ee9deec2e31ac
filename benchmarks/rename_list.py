"""Benchmark of ``rename_list``: the database part against the list's size, and the reindex.

Run it from the repository root, on a throw-away PostgreSQL cluster:

    .ci/postgres .venv/bin/python benchmarks/rename_list.py

or on a running PostgreSQL server (``MAILMAN_WEB_DB_*`` as for the tests; the
role needs CREATEDB), with a database name of its own:

    MAILMAN_WEB_DB_NAME=rename_bench .venv/bin/python benchmarks/rename_list.py

It creates the database ``test_<MAILMAN_WEB_DB_NAME>`` and its search indexes
in a temporary folder, and drops both at the end. It is run by hand, never by
CI: with the defaults it needs some 25 minutes of CPU time, most of it
hyperkitty's reindex of the 10 000-email list on Whoosh (about 15 ms of CPU
per email, against some 3 ms for rename_list's); ``--reindex-sizes 1000 3000``
and ``--engines whoosh`` make it shorter. It measures:

- the database part of a rename (``plan_rename``, then ``rename_web_rows``: one
  transaction) of lists of 1 000, 10 000 and 100 000 archived emails, seeded
  with bulk inserts of hyperkitty's models; the transaction must not grow
  with the list;
- the reindex of a renamed list of 1 000, 3 000 and 10 000 emails, on Whoosh
  and on Xapian (when xapian-haystack is installed): rename_list's
  ``reindex_renamed_list`` against hyperkitty's ``update_index_one_list NEW``.
  Both start from copies of one index, built with the list under its old name
  beside another list of 1 000 emails, and the same database (the list
  renamed). They take turns (``--runs`` runs each, the first of each pair
  alternating), so that whatever else loads the machine weighs on both; the
  table gives the minimum and the median of each, their ratios, and the
  spread (max / min) as the machine's noise. After the first pair, the two
  indexes are compared whole (stored fields, terms, positions): the rename's
  must be the one a full reindex gives. Goal: ratio <= 0.33 on Whoosh.

It prints the tables and writes them to ``benchmarks/results/rename_list.md``
and ``rename_list.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import measuring
from measuring import RESULTS, commit, load, machine, setup_django

DOMAIN = "lists.example.org"
GOAL = 0.33
NEIGHBOUR_SIZE = 1000
WORDS = (
    "budget facture trésorerie réunion bureau assemblée association réseau serveur "
    "cotisation adhérent machine câble switch wifi chambre local permanence compte "
    "rendu ordre jour vote motion statuts président secrétaire trésorier conseil "
    "administration élection candidat mandat projet matériel achat devis subvention"
).split()


@dataclass
class Timing:
    wall: float
    user: float
    system: float

    @property
    def cpu(self) -> float:
        return self.user + self.system

    @classmethod
    def of(cls, function: Callable[[], object]) -> Timing:
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        function()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        return cls(wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)


def seed_list(local_part: str, size: int, random_words: random.Random) -> int:
    """Create a list of ``size`` archived emails (bulk inserts), with templates; return its id."""
    from hyperkitty.lib.utils import get_message_id_hash
    from hyperkitty.models import Email, MailingList, Sender, Thread
    from postorius.models import EmailTemplate

    name = f"{local_part}@{DOMAIN}"
    display_name = local_part.capitalize()
    mailing_list = MailingList.objects.create(
        name=name, display_name=display_name, subject_prefix=f"[{display_name}] "
    )
    EmailTemplate.objects.bulk_create(
        EmailTemplate(
            name=template,
            data="...",
            language="fr",
            context="list",
            identifier=mailing_list.list_id,
        )
        for template in ("list:member:generic:footer", "list:user:notice:welcome")
    )
    senders = Sender.objects.bulk_create(
        [Sender(address=f"member{number}@example.org") for number in range(200)],
        ignore_conflicts=True,
    )
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    chunk = 5000
    per_thread = 5
    for first in range(0, size, chunk):
        numbers = range(first, min(first + chunk, size))
        threads = Thread.objects.bulk_create(
            Thread(
                mailinglist=mailing_list,
                thread_id=get_message_id_hash(f"{local_part}-thread-{number}"),
                date_active=start + timedelta(hours=number),
            )
            for number in numbers[::per_thread]
        )
        emails = []
        for number in numbers:
            message_id = f"{local_part}-{number}@example.org"
            words = random_words.choices(WORDS, k=120)
            emails.append(
                Email(
                    mailinglist=mailing_list,
                    message_id=message_id,
                    message_id_hash=get_message_id_hash(message_id),
                    sender=senders[number % len(senders)],
                    sender_name=f"Member {number % len(senders)}",
                    subject=" ".join(words[:6]).capitalize(),
                    content="\n".join(" ".join(words[i : i + 12]) for i in range(0, 120, 12)),
                    date=start + timedelta(hours=number),
                    timezone=0,
                    thread=threads[(number - first) // per_thread],
                    thread_order=number % per_thread,
                    thread_depth=min(number % per_thread, 1),
                )
            )
        Email.objects.bulk_create(emails)
    return mailing_list.pk


def time_database_part(size: int, random_words: random.Random, rounds: int) -> dict[str, float]:
    """Median time of planning and committing renames back and forth of a ``size`` list."""
    from django.db import connection

    from crans_admin.rename import plan_rename, rename_web_rows

    local_part = f"list{size}"
    seed_list(local_part, size, random_words)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # statistics of the new rows, as autovacuum would make them
    names = [f"{local_part}@{DOMAIN}", f"renamed{size}@{DOMAIN}"]
    plans, commits = [], []
    for round_number in range(rounds):
        old, new = names[round_number % 2], names[(round_number + 1) % 2]
        start = time.perf_counter()
        plan = plan_rename(old, new, core_renamed_separately=True)
        plans.append(time.perf_counter() - start)
        start = time.perf_counter()
        rename_web_rows(plan, first_run=True, mark_done=lambda: None)
        commits.append(time.perf_counter() - start)
    return {"plan": statistics.median(plans), "commit": statistics.median(commits)}


def commit_rename(old: str, new: str) -> None:
    """The web database's part of a rename (the journal and the other steps aside)."""
    from crans_admin.rename import plan_rename, rename_web_rows

    plan = plan_rename(old, new, core_renamed_separately=True)
    rename_web_rows(plan, first_run=True, mark_done=lambda: None)


def available_engines() -> list[str]:
    """Whoosh, and Xapian when its backend and bindings are installed."""
    if importlib.util.find_spec("xapian_backend") and importlib.util.find_spec("xapian"):
        return ["whoosh", "xapian"]
    return ["whoosh"]


def time_reindex(
    sizes: list[int],
    runs: int,
    engines: list[str],
    random_words: random.Random,
    folder: Path,
    measured: Callable[[list[dict[str, object]]], None],
) -> None:
    """Time both reindexes of renamed lists of each size, on each engine; check they agree.

    ``measured(results)`` is called with the results so far after each engine and size.
    """
    from django.core.management import call_command

    from crans_admin.rename import reindex_list, reindex_renamed_list
    from devstack.search_index import index_contents, use_search_index

    neighbour = seed_list("neighbour", NEIGHBOUR_SIZE, random_words)
    results = []
    for size in sizes:
        local_part = f"reindexed{size}"
        mailing_list_id = seed_list(local_part, size, random_words)
        old, new = f"{local_part}@{DOMAIN}", f"moved{size}@{DOMAIN}"
        built = {}
        for engine in engines:
            built[engine] = folder / f"built-{engine}-{size}"
            use_search_index(engine, built[engine])
            reindex_list(neighbour)
            reindex_list(mailing_list_id)
        commit_rename(old, new)
        ways = {
            "update_index_one_list": partial(
                call_command, "update_index_one_list", new, verbosity=0
            ),
            "rename_list": partial(reindex_renamed_list, mailing_list_id, old),
        }
        for engine, index in built.items():
            timings = {way: [] for way in ways}
            for run in range(runs):
                order = list(ways) if run % 2 == 0 else list(reversed(ways))
                contents = {}
                for way in order:
                    copy = folder / f"run-{engine}-{size}-{way}"
                    shutil.copytree(index, copy)
                    use_search_index(engine, copy)
                    timings[way].append(Timing.of(ways[way]))
                    if run == 0:
                        contents[way] = index_contents()
                    shutil.rmtree(copy)
                if run == 0 and contents["rename_list"] != contents["update_index_one_list"]:
                    raise AssertionError(f"{engine}, {size} emails: the indexes differ")
                print(
                    f"reindex, {engine}, {size} emails, run {run + 1}: "
                    + ", ".join(f"{way} {timings[way][-1].wall:.2f} s" for way in order),
                    flush=True,
                )
            results.append({"engine": engine, "emails": size, "timings": timings})
            measured(results)
            shutil.rmtree(index)
        commit_rename(new, old)


def summary(timings: list[Timing], measure: str) -> dict[str, float]:
    return measuring.summary(getattr(timing, measure) for timing in timings)


def report(
    database: dict[int, dict[str, float]],
    reindex: list[dict[str, object]],
    started: dict[str, str],
    duration: float,
) -> tuple[str, dict[str, object]]:
    """The tables in Markdown, and the same figures for the JSON file."""
    lines = [
        "# rename_list benchmark",
        "",
        f"`benchmarks/rename_list.py`, {started['time']} UTC, commit {started['commit']}; "
        f"{machine()}, indexes on local disk.",
        f"Load average (1, 5, 15 min) at the start {started['load']}, at the end {load()}; "
        f"the run took {duration / 60:.0f} min.",
        "Reproduce: `.ci/postgres .venv/bin/python benchmarks/rename_list.py`.",
    ]
    figures: dict[str, object] = {
        "time": started["time"],
        "machine": f"{machine()}, indexes on local disk",
        "load_start": started["load"],
        "load_end": load(),
        "duration_s": round(duration),
        "database": database,
        "reindex": [],
    }
    if database:
        sizes = sorted(database)
        lines += [
            "",
            "## Database part (median of the renames back and forth)",
            "",
            "| emails | plan_rename (counts for the report) | rename_web_rows (the transaction) |",
            "|-------:|------------------------------------:|--------------------------------:|",
        ]
        lines += [
            f"| {size:,} | {database[size]['plan'] * 1000:.1f} ms "
            f"| {database[size]['commit'] * 1000:.1f} ms |"
            for size in sizes
        ]
        smallest, largest = database[sizes[0]], database[sizes[-1]]
        lines += [
            "",
            f"t({sizes[-1]:,}) / t({sizes[0]:,}): rename_web_rows "
            f"{largest['commit'] / smallest['commit']:.2f}, plan_rename "
            f"{largest['plan'] / smallest['plan']:.2f}.",
        ]
    if reindex:
        runs = len(reindex[0]["timings"]["rename_list"])
        lines += [
            "",
            "## Reindex of a renamed list: rename_list vs `update_index_one_list NEW`",
            "",
            f"Both from copies of the same index (the list under its old name, beside a list "
            f"of {NEIGHBOUR_SIZE:,} emails) and the same database; {runs} runs each, taking "
            "turns. Wall-clock seconds (min / median / max) and the ratios rename_list / "
            "update_index_one_list of the minima and of the medians; spread = max / min of "
            "each side (the machine's noise); CPU = user + system time of the process. "
            f"The two indexes were equal after each first pair. Goal on Whoosh: <= {GOAL}.",
            "",
            "| engine | emails | update_index_one_list | rename_list | ratio of minima "
            "| ratio of medians | CPU ratio (medians) | spread |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for result in reindex:
            baseline = summary(result["timings"]["update_index_one_list"], "wall")
            ours = summary(result["timings"]["rename_list"], "wall")
            baseline_cpu = summary(result["timings"]["update_index_one_list"], "cpu")
            ours_cpu = summary(result["timings"]["rename_list"], "cpu")
            row = {
                "engine": result["engine"],
                "emails": result["emails"],
                "update_index_one_list": baseline,
                "rename_list": ours,
                "update_index_one_list_cpu": baseline_cpu,
                "rename_list_cpu": ours_cpu,
                "ratio_of_minima": ours["min"] / baseline["min"],
                "ratio_of_medians": ours["median"] / baseline["median"],
                "cpu_ratio_of_medians": ours_cpu["median"] / baseline_cpu["median"],
                "runs": {
                    way: [asdict(timing) for timing in timings]
                    for way, timings in result["timings"].items()
                },
            }
            figures["reindex"].append(row)
            lines.append(
                f"| {row['engine']} | {row['emails']:,} "
                f"| {baseline['min']:.2f} / {baseline['median']:.2f} / {baseline['max']:.2f} "
                f"| {ours['min']:.2f} / {ours['median']:.2f} / {ours['max']:.2f} "
                f"| {row['ratio_of_minima']:.3f} | {row['ratio_of_medians']:.3f} "
                f"| {row['cpu_ratio_of_medians']:.3f} "
                f"| {baseline['max'] / baseline['min']:.2f} / {ours['max'] / ours['min']:.2f} |"
            )
    return "\n".join(lines) + "\n", figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--reindex-sizes", type=int, nargs="*", default=[1000, 3000, 10000])
    parser.add_argument("--rounds", type=int, default=11, help="renames per size (median)")
    parser.add_argument("--runs", type=int, default=3, help="reindexes of each way per size")
    parser.add_argument(
        "--engines", nargs="+", choices=available_engines(), default=available_engines()
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "rename_list")
    options = parser.parse_args()

    started = {
        "time": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        "load": load(),
        "commit": commit(),
    }
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rename-list-bench-") as folder:
        setup_django(folder)
        from django.test.utils import setup_databases, teardown_databases

        databases = setup_databases(verbosity=0, interactive=False)
        try:
            random_words = random.Random(4)
            database = {}
            for size in options.sizes:
                database[size] = time_database_part(size, random_words, options.rounds)
                print(f"database part, {size} emails: {database[size]}", flush=True)

            def write(reindex: list[dict[str, object]]) -> None:
                text, figures = report(database, reindex, started, time.perf_counter() - start)
                options.output.parent.mkdir(parents=True, exist_ok=True)
                options.output.with_suffix(".md").write_text(text)
                options.output.with_suffix(".json").write_text(json.dumps(figures, indent=2) + "\n")
                print(text, f"Written to {options.output}.md and .json", sep="\n", flush=True)

            write([])
            time_reindex(
                options.reindex_sizes,
                options.runs,
                options.engines,
                random_words,
                Path(folder) / "indexes",
                write,
            )
        finally:
            teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
