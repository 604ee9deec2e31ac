#!/usr/bin/env python3
"""Rendering time of mailman-web pages with the Crans theme and with upstream's templates.

    MAILMAN_WEB_DB_NAME=bench .venv/bin/python benchmarks/render.py [--threads 1000]

Pages: hyperkitty's overview and thread list of a list of ``--threads``
threads, and postorius' list index (``--lists`` lists in a real Mailman core
3.3.10, started as in the tests). The settings are the test suite's
(PostgreSQL from MAILMAN_WEB_DB_*, in a database of the benchmark's own,
dropped at the end) with DEBUG off and offline compression, as in production.

Each variant ("themed"; "upstream": the theme removed from INSTALLED_APPS)
runs in a subprocess of its own, both alive at once. After a warm-up they
take turns, in ``--rounds`` rounds, to request each page ``--repeat`` times
through Django's test client, so that whatever else loads the machine
weighs on both alike. The table gives the median CPU time of the rendering process (what
the templates cost, however loaded the machine is) and the median wall-clock
time, with the ratios themed / upstream (goal: <= 1.05); it is also written
to benchmarks/results/render.md and render.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures.mailman_core import (  # noqa: E402
    MailmanCore,
    SMTPSink,
    administer_postgresql,
    free_port,
)

RESULTS = REPO / "benchmarks" / "results"
THEME = "mailman_crans_theme"
VARIANTS = ("themed", "upstream")
LIST_NAME = "bench@lists.crans.org"
MAIL_HOST = "lists.crans.org"
GOAL = 1.05
PAGES = ("hyperkitty list overview", "hyperkitty thread list", "postorius list index")


# --- In the worker subprocess: Django set up for one variant ---------------------------


def setup_django(variant: str) -> None:
    """The test suite's settings, DEBUG off, offline compression, with or without the theme."""
    import django
    from django.conf import settings

    import settings.test as base

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    static_root = os.environ.get("BENCHMARK_STATIC_ROOT", values["STATIC_ROOT"])
    settings.configure(
        **{
            **values,
            "INSTALLED_APPS": [
                app for app in base.INSTALLED_APPS if variant == "themed" or app != THEME
            ],
            "DEBUG": False,
            "ALLOWED_HOSTS": ["testserver"],
            "COMPRESS_ENABLED": True,
            "COMPRESS_OFFLINE": True,
            "STATIC_ROOT": static_root,
            "COMPRESS_ROOT": static_root,
            # The archiver's Mailman core look-ups and cache rebuilds wait for the jobs.
            "HYPERKITTY_BATCH_MODE": True,
        }
    )
    django.setup()


def prepare_database(threads: int) -> None:
    """Migrate, name the Site and archive ``threads`` threads (a reply in every tenth)."""
    from email.message import EmailMessage

    from django.contrib.sites.models import Site
    from django.core.management import call_command
    from hyperkitty.lib.incoming import add_to_list

    call_command("migrate", verbosity=0)
    Site.objects.update_or_create(pk=1, defaults={"domain": MAIL_HOST, "name": "Listes Crans"})
    start = datetime.now(timezone.utc) - timedelta(days=25)
    for number in range(threads):
        for reply in (False, True) if number % 10 == 0 else (False,):
            email = EmailMessage()
            email["From"] = f"Membre {number % 37} <membre{number % 37}@crans.org>"
            email["Subject"] = f"{'Re: ' if reply else ''}Discussion {number}"
            email["Message-ID"] = f"<bench-{number}{'-re' if reply else ''}@crans.org>"
            if reply:
                email["In-Reply-To"] = f"<bench-{number}@crans.org>"
            email["Date"] = (start + timedelta(minutes=30 * number + reply)).strftime(
                "%a, %d %b %Y %H:%M:%S +0000"
            )
            email.set_content(f"Message {number} de la liste de test.\n")
            add_to_list(LIST_NAME, email)


def compress() -> None:
    """collectstatic and compress, as on deploy, into the variant's STATIC_ROOT."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("compress", verbosity=0)


def serve(warmup: int) -> None:
    """Answer the main process: for each page name read on stdin, time ``--repeat`` requests.

    Prints "ready" once every page was requested ``warmup`` times, then one
    line of JSON per page name read: the wall-clock and CPU seconds of each request.
    """
    from django.test import Client
    from django.urls import reverse

    client = Client()
    urls = dict(
        zip(
            PAGES,
            (
                reverse("hk_list_overview", args=[LIST_NAME]),
                reverse("hk_archives_latest", args=[LIST_NAME]),
                reverse("list_index"),
            ),
            strict=True,
        )
    )
    for page, url in urls.items():
        for _ in range(warmup):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{page} ({url}) answered {response.status_code}")
    print("ready", flush=True)
    for line in sys.stdin:
        page, repeat = line.rstrip("\n").rsplit(" ", 1)
        samples: dict[str, list[float]] = {"wall": [], "cpu": []}
        for _ in range(int(repeat)):
            wall, cpu = time.perf_counter(), time.process_time()
            client.get(urls[page])
            samples["cpu"].append(time.process_time() - cpu)
            samples["wall"].append(time.perf_counter() - wall)
        print(json.dumps(samples), flush=True)


def worker(arguments: argparse.Namespace) -> None:
    setup_django(arguments.variant)
    if arguments.worker == "prepare":
        prepare_database(arguments.threads)
    elif arguments.worker == "compress":
        compress()
    else:
        serve(arguments.warmup)


# --- In the main process: database, Mailman core, rounds, report -----------------------


def worker_command(step: str, variant: str, arguments: argparse.Namespace) -> list[str]:
    return [
        *(sys.executable, __file__, "--worker", step, "--variant", variant),
        *("--threads", str(arguments.threads), "--warmup", str(arguments.warmup)),
    ]


def run_worker(step: str, variant: str, arguments, environment) -> None:
    command = worker_command(step, variant, arguments)
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{step} ({variant}) failed:\n{result.stdout}\n{result.stderr}")


def start_server(variant: str, arguments, environment) -> subprocess.Popen:
    """A worker of the variant that has warmed up and waits for page names."""
    process = subprocess.Popen(
        worker_command("serve", variant, arguments),
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise SystemExit(f"the {variant} worker did not start (see its errors above)")
    return process


def ask(process: subprocess.Popen, page: str, repeat: int) -> dict[str, list[float]]:
    process.stdin.write(f"{page} {repeat}\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def create_lists(core: MailmanCore, count: int) -> None:
    domain = core.client().create_domain(MAIL_HOST)
    for number in range(count):
        mailing_list = domain.create_list(f"liste{number:03d}")
        mailing_list.settings["description"] = f"Liste numéro {number}"
        mailing_list.settings["advertised"] = True
        mailing_list.settings.save()


Timings = dict[str, dict[str, dict[str, list[float]]]]  # variant -> page -> clock -> seconds


def measure(arguments: argparse.Namespace, folder: Path) -> Timings:
    database = f"{os.environ.get('MAILMAN_WEB_DB_NAME', 'mailman3web')}_render"
    administer_postgresql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    administer_postgresql(f'CREATE DATABASE "{database}"')
    sink = SMTPSink(folder / "sent-mail", free_port())
    core = MailmanCore(
        folder / "core",
        rest_port=free_port(),
        lmtp_port=free_port(),
        smtp_port=sink.port,
        database_url=f"sqlite:///{folder / 'core' / 'mailman.db'}",
        start_timeout=120,
    )
    environment = {
        **os.environ,
        "MAILMAN_WEB_DB_NAME": database,
        "MAILMAN_WEB_LOCAL_DIR": str(folder / "var"),
        "MAILMAN_REST_API_URL": core.rest_url,
        "MAILMAN_REST_API_PASS": core.admin_pass,
    }
    timings: Timings = {
        variant: {page: {"wall": [], "cpu": []} for page in PAGES} for variant in VARIANTS
    }
    try:
        sink.start()
        core.install()
        core.write_config()
        core.start()
        print(f"Mailman core on {core.rest_url}: {arguments.lists} lists", file=sys.stderr)
        create_lists(core, arguments.lists)
        print(f"Archiving {arguments.threads} threads in {database}...", file=sys.stderr)
        run_worker("prepare", "themed", arguments, environment)
        static_roots = {
            variant: {"BENCHMARK_STATIC_ROOT": str(folder / variant)} for variant in VARIANTS
        }
        for variant in VARIANTS:
            run_worker("compress", variant, arguments, environment | static_roots[variant])
        servers = {
            variant: start_server(variant, arguments, environment | static_roots[variant])
            for variant in VARIANTS
        }
        try:
            for round_number in range(arguments.rounds):
                order = VARIANTS if round_number % 2 == 0 else VARIANTS[::-1]
                for page in PAGES:
                    for variant in order:
                        clocks = ask(servers[variant], page, arguments.repeat)
                        for clock, samples in clocks.items():
                            timings[variant][page][clock].extend(samples)
                if (round_number + 1) % 10 == 0:
                    print(f"round {round_number + 1}/{arguments.rounds}", file=sys.stderr)
        finally:
            for server in servers.values():
                server.stdin.close()
                server.wait(timeout=60)
    finally:
        core.stop()
        sink.stop()
        administer_postgresql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return timings


def report(arguments: argparse.Namespace, timings: Timings) -> dict:
    rows = []
    for page in PAGES:
        row = {"page": page, "samples": len(timings["themed"][page]["cpu"])}
        for clock in ("cpu", "wall"):
            themed = statistics.median(timings["themed"][page][clock])
            upstream = statistics.median(timings["upstream"][page][clock])
            row[f"{clock}_themed_ms"] = round(themed * 1000, 2)
            row[f"{clock}_upstream_ms"] = round(upstream * 1000, 2)
            row[f"{clock}_ratio"] = round(themed / upstream, 3)
        rows.append(row)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        "threads": arguments.threads,
        "lists": arguments.lists,
        "rounds": arguments.rounds,
        "goal": GOAL,
        "rows": rows,
    }


def table(summary: dict) -> str:
    lines = [
        "| page | CPU themed | CPU upstream | CPU ratio | wall themed | wall upstream "
        "| wall ratio | samples |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary["rows"]:
        verdict = "" if row["cpu_ratio"] <= summary["goal"] else " (over goal)"
        lines.append(
            f"| {row['page']} | {row['cpu_themed_ms']:.2f} ms | {row['cpu_upstream_ms']:.2f} ms "
            f"| {row['cpu_ratio']:.3f}{verdict} | {row['wall_themed_ms']:.2f} ms "
            f"| {row['wall_upstream_ms']:.2f} ms | {row['wall_ratio']:.3f} | {row['samples']} |"
        )
    return "\n".join(lines)


def write_results(summary: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "render.json").write_text(json.dumps(summary, indent=2) + "\n")
    (RESULTS / "render.md").write_text(
        "# Rendering time: Crans theme vs upstream templates\n\n"
        f"`benchmarks/render.py`, {summary['date']}, commit {summary['commit']}, "
        f"{summary['machine']}.\n"
        f"Hyperkitty list of {summary['threads']} threads; {summary['lists']} lists in "
        f"Mailman core; PostgreSQL; DEBUG off, offline compression; {summary['rounds']} "
        f"rounds taking turns. Medians; CPU is the rendering process's own time\n"
        f"(what the templates cost, whatever else runs on the machine), wall the request's.\n"
        f"Goal: ratio <= {summary['goal']}.\n\n"
        f"{table(summary)}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--lists", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page and round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--worker", choices=("prepare", "compress", "serve"), help="internal")
    parser.add_argument("--variant", choices=VARIANTS, default="themed", help="internal")
    arguments = parser.parse_args()
    if arguments.worker:
        worker(arguments)
        return
    with tempfile.TemporaryDirectory(prefix="render-benchmark-") as folder:
        timings = measure(arguments, Path(folder))
    summary = report(arguments, timings)
    write_results(summary)
    print(table(summary))
    print(f"\nWritten to {RESULTS / 'render.md'} and render.json")


if __name__ == "__main__":
    main()
