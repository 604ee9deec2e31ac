"""Benchmark of ``rename_list``: the database part against the list's size, and the reindex.

Run it from the repository root, on a throw-away PostgreSQL cluster:

    .ci/postgres .venv/bin/python benchmarks/rename_list.py

or on a running PostgreSQL server (``MAILMAN_WEB_DB_*`` as for the tests; the
role needs CREATEDB), with a database name of its own:

    MAILMAN_WEB_DB_NAME=rename_bench .venv/bin/python benchmarks/rename_list.py

It creates the database ``test_<MAILMAN_WEB_DB_NAME>`` and a Whoosh index in a
temporary folder, and drops both at the end. It takes about 10 minutes on two
cores, most of it reindexing. It measures:

- the database part of a rename (``plan_rename``, then ``rename_web_rows``: one
  transaction) of lists of 1 000, 10 000 and 100 000 archived emails, seeded
  with bulk inserts of hyperkitty's models; the transaction must not grow
  with the list;
- the reindex of a 10 000-email list after its rename: ``reindex_list`` (with
  the sweep of documents left under the old name, as ``apply_rename`` does)
  against hyperkitty's ``update_index_one_list`` on the same list, same index,
  same run. Goal: ratio <= 0.5.

It prints a table and writes it to ``benchmarks/results/rename_list.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "rename_list.md"
DOMAIN = "lists.example.org"
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

    @classmethod
    def of(cls, function: Callable[[], object]) -> Timing:
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        function()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        return cls(wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)


def setup_django(local_dir: str) -> None:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.test")
    os.environ.setdefault("MAILMAN_WEB_LOCAL_DIR", local_dir)
    import django

    django.setup()


def use_search_index(path: Path) -> None:
    """Point haystack's default connection at a Whoosh index in ``path``."""
    import haystack
    from django.conf import settings

    connections = {
        "default": {"ENGINE": "haystack.backends.whoosh_backend.WhooshEngine", "PATH": str(path)}
    }
    settings.HAYSTACK_CONNECTIONS = connections
    haystack.connections.connections_info = connections
    haystack.connections.reload("default")


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

    from crans_admin.rename.plan import plan_rename
    from crans_admin.rename.web import rename_web_rows

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


def time_reindex(size: int, random_words: random.Random, index_folder: Path) -> dict[str, Timing]:
    """Reindex a renamed ``size`` list: hyperkitty's command, then rename_list's way.

    Each starts from its own index, built the same way (every email filed
    under the old name, one Whoosh segment): Whoosh's cost per document grows
    with what earlier commits left in the index, so sharing one index would
    favour whichever runs first.
    """
    from django.core.management import call_command
    from haystack.query import SearchQuerySet
    from hyperkitty.models import Email

    from crans_admin.rename.plan import plan_rename
    from crans_admin.rename.search import reindex_list, remove_stale_documents
    from crans_admin.rename.web import rename_web_rows

    def commit_rename(old: str, new: str) -> None:
        """The web database's part of the rename (no journal: it is what is timed above)."""
        plan = plan_rename(old, new, core_renamed_separately=True)
        rename_web_rows(plan, first_run=True, mark_done=lambda: None)

    mailing_list_id = seed_list("reindexed", size, random_words)
    old, new = f"reindexed@{DOMAIN}", f"renamed@{DOMAIN}"

    def documents(name: str) -> int:
        return SearchQuerySet().models(Email).filter(mailinglist__exact=name).count()

    def renamed_list_in_fresh_index(name: str) -> None:
        use_search_index(index_folder / name)
        reindex_list(mailing_list_id)
        commit_rename(old, new)
        assert (documents(old), documents(new)) == (size, 0)

    renamed_list_in_fresh_index("update_index_one_list")
    baseline = Timing.of(lambda: call_command("update_index_one_list", new, verbosity=0))
    assert (documents(old), documents(new)) == (0, size)
    commit_rename(new, old)

    renamed_list_in_fresh_index("rename_list")
    ours = Timing.of(lambda: (reindex_list(mailing_list_id), remove_stale_documents(old)))
    assert (documents(old), documents(new)) == (0, size)
    return {"baseline": baseline, "ours": ours}


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (postgres,) = cursor.fetchone()
    return (
        f"Python {platform.python_version()}, PostgreSQL {postgres}, "
        f"{os.cpu_count()} CPU(s), {platform.machine()}, Whoosh index on local disk"
    )


def report(
    database: dict[int, dict[str, float]], reindex: dict[str, object] | None, reindex_size: int
) -> str:
    sizes = sorted(database)
    lines = [
        "# rename_list benchmark",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {machine()}.",
        "Reproduce: `.ci/postgres .venv/bin/python benchmarks/rename_list.py`.",
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
    if reindex is not None:
        baseline, ours = reindex["baseline"], reindex["ours"]
        lines += [
            "",
            f"## Reindex of a renamed {reindex_size:,}-email list (Whoosh)",
            "",
            "| | wall | user CPU | system CPU |",
            "|---|---:|---:|---:|",
            f"| hyperkitty `update_index_one_list` | {baseline.wall:.1f} s | "
            f"{baseline.user:.1f} s | {baseline.system:.1f} s |",
            f"| rename_list (`reindex_list` + stale sweep) | {ours.wall:.1f} s | "
            f"{ours.user:.1f} s | {ours.system:.1f} s |",
            "",
            f"Ratio rename_list / update_index_one_list: {ours.wall / baseline.wall:.2f} "
            "(goal <= 0.5).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--reindex-size", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=11, help="renames per size (median)")
    parser.add_argument("--no-reindex", action="store_true", help="skip the reindex part")
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args()

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
            reindex = None
            if not options.no_reindex:
                reindex = time_reindex(options.reindex_size, random_words, Path(folder) / "indexes")
            text = report(database, reindex, options.reindex_size)
        finally:
            teardown_databases(databases, verbosity=0)
    print(text)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text)
    print(f"Written to {options.output}")


if __name__ == "__main__":
    main()
