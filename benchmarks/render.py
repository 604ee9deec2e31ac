#!/usr/bin/env python3
"""Rendering time of mailman-web pages with the Crans theme and with upstream's templates.

    .venv/bin/python benchmarks/render.py [--emails 3000] [--rounds 40]
    .venv/bin/python benchmarks/render.py --profile "list overview" --folder /tmp/render

As in production: DEBUG off, static files collected and compressed offline;
the embedded default's SQLite database (in a temporary folder of the
benchmark's own), and no Mailman core, so that the pages' own cost is not
hidden behind core's REST calls: the pages are hyperkitty's and allauth's,
which need no core. One list of ``--emails`` emails (threads of one to
three messages, over the last 60 days).

Each variant ("themed"; "upstream": the theme removed from INSTALLED_APPS)
runs in a subprocess of its own, both alive at once, on the same database.
After a warm-up they take turns (the order alternating from round to round),
in ``--rounds`` rounds, to request each page ``--repeat`` times through
Django's test client, so that whatever else loads the machine weighs on both
alike. For each page: the minimum and the median of the rendering process's
CPU time (what the templates cost, however loaded the machine is) and of
the wall-clock time, with the ratios themed / upstream (goal: <= 1.05);
written to benchmarks/results/render.md and render.json.

``--profile PAGE`` instead profiles the page's requests in both variants
(cProfile, cumulative time, the functions of the template engine first) to
show where the theme's extra time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
THEME = "mailman_crans_theme"
VARIANTS = ("themed", "upstream")
LIST_NAME = "bench@lists.crans.org"
MAIL_HOST = "lists.crans.org"
GOAL = 1.05
# Page name -> (URL name, arguments); a visitor's view of each.
PAGES = {
    "archives index": ("hk_root", []),
    "list overview": ("hk_list_overview", [LIST_NAME]),
    "latest threads": ("hk_archives_latest", [LIST_NAME]),
    "thread": ("hk_thread", [LIST_NAME, "THREAD"]),
    "login": ("account_login", []),
    "signup": ("account_signup", []),
    "page not found": (None, ["/hyperkitty/no-such-page/"]),
}


# --- In the worker subprocess: Django set up for one variant ---------------------------


def setup_django(variant: str, folder: Path) -> None:
    """The embedded default's settings in ``folder``, production-like, with or without the theme."""
    os.environ["MAILMAN_WEB_LOCAL_DIR"] = str(folder / "var")
    sys.path.insert(0, str(REPO))
    import django
    from django.conf import settings

    import crans_mailman_web_settings.local as base

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    static_root = str(folder / f"static-{variant}")
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
            # No Mailman core: nothing listens on the discard port.
            "MAILMAN_REST_API_URL": "http://127.0.0.1:9",
            "HYPERKITTY_BATCH_MODE": True,
            "Q_CLUSTER": {**values["Q_CLUSTER"], "sync": True},
        }
    )
    django.setup()


def prepare_database(emails: int) -> None:
    """Migrate, name the Site and archive ``emails`` emails in threads of one to three."""
    from email.message import EmailMessage

    from django.contrib.sites.models import Site
    from django.core.management import call_command
    from django.db import transaction
    from hyperkitty.lib.incoming import add_to_list

    call_command("migrate", verbosity=0)
    Site.objects.update_or_create(pk=1, defaults={"domain": MAIL_HOST, "name": "Listes Crans"})
    start = datetime.now(timezone.utc) - timedelta(days=60)
    step = timedelta(days=60) / emails
    with transaction.atomic():
        number = 0
        while number < emails:
            thread = number
            for reply in range(min(1 + thread % 3, emails - number)):
                email = EmailMessage()
                email["From"] = f"Membre {number % 37} <membre{number % 37}@crans.org>"
                email["Subject"] = f"{'Re: ' if reply else ''}Discussion {thread}"
                email["Message-ID"] = f"<bench-{number}@crans.org>"
                if reply:
                    email["In-Reply-To"] = f"<bench-{thread}@crans.org>"
                email["Date"] = (start + step * number).strftime("%a, %d %b %Y %H:%M:%S +0000")
                email.set_content(f"Message {number} de la liste de test.\n")
                add_to_list(LIST_NAME, email)
                number += 1


def compress() -> None:
    """collectstatic and compress, as on deploy, into the variant's STATIC_ROOT."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("compress", verbosity=0)


def page_urls() -> dict[str, str]:
    from django.urls import reverse
    from hyperkitty.models import Email

    thread_id = Email.objects.get(message_id="bench-0@crans.org").thread.thread_id
    urls = {}
    for page, (url_name, arguments) in PAGES.items():
        if url_name is None:
            urls[page] = arguments[0]
        else:
            urls[page] = reverse(
                url_name, args=[thread_id if a == "THREAD" else a for a in arguments]
            )
    return urls


def expected_status(page: str) -> int:
    return 404 if page == "page not found" else 200


def serve(warmup: int) -> None:
    """Answer the main process: for each page name read on stdin, time ``--repeat`` requests.

    Prints "ready" once every page was requested ``warmup`` times, then one
    line of JSON per page name read: the wall-clock and CPU seconds of each request.
    """
    from django.test import Client

    client = Client()
    urls = page_urls()
    for page, url in urls.items():
        for _ in range(warmup):
            response = client.get(url)
            if response.status_code != expected_status(page):
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


def profile(page: str, repeat: int) -> None:
    """Print the profile of ``repeat`` requests of ``page`` (after a warm-up)."""
    from django.test import Client

    client = Client()
    url = page_urls()[page]
    for _ in range(5):
        client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(url)
    profiler.disable()
    output = io.StringIO()
    stats = pstats.Stats(profiler, stream=output)
    stats.sort_stats("cumulative").print_stats(45)
    print(output.getvalue())


def worker(arguments: argparse.Namespace) -> None:
    setup_django(arguments.variant, Path(arguments.folder))
    if arguments.worker == "prepare":
        prepare_database(arguments.emails)
    elif arguments.worker == "compress":
        compress()
    elif arguments.worker == "profile":
        profile(arguments.profile, arguments.repeat)
    else:
        serve(arguments.warmup)


# --- In the main process: rounds, report ------------------------------------------------


def worker_command(step: str, variant: str, arguments, folder: Path) -> list[str]:
    return [
        *(sys.executable, __file__, "--worker", step, "--variant", variant),
        *("--folder", str(folder), "--emails", str(arguments.emails)),
        *("--warmup", str(arguments.warmup), "--repeat", str(arguments.repeat)),
        *(("--profile", arguments.profile) if arguments.profile else ()),
    ]


def run_worker(step: str, variant: str, arguments, folder: Path) -> str:
    command = worker_command(step, variant, arguments, folder)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{step} ({variant}) failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start_server(variant: str, arguments, folder: Path) -> subprocess.Popen:
    """A worker of the variant that has warmed up and waits for page names."""
    process = subprocess.Popen(
        worker_command("serve", variant, arguments, folder),
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


Timings = dict[str, dict[str, dict[str, list[float]]]]  # variant -> page -> clock -> seconds


def prepare(arguments: argparse.Namespace, folder: Path) -> None:
    """The database (unless ``folder`` has it already), and each variant's compressed files."""
    if not (folder / "var" / "mailman-web.db").exists():
        print(f"Archiving {arguments.emails} emails in SQLite...", file=sys.stderr)
        run_worker("prepare", "themed", arguments, folder)
    for variant in VARIANTS:
        run_worker("compress", variant, arguments, folder)


def measure(arguments: argparse.Namespace, folder: Path) -> Timings:
    timings: Timings = {
        variant: {page: {"wall": [], "cpu": []} for page in arguments.pages} for variant in VARIANTS
    }
    servers = {variant: start_server(variant, arguments, folder) for variant in VARIANTS}
    try:
        for round_number in range(arguments.rounds):
            order = VARIANTS if round_number % 2 == 0 else VARIANTS[::-1]
            for page in arguments.pages:
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
    return timings


def report(arguments: argparse.Namespace, timings: Timings) -> dict:
    rows = []
    for page in arguments.pages:
        row = {"page": page, "samples": len(timings["themed"][page]["cpu"])}
        for clock in ("cpu", "wall"):
            for name, function in (("median", statistics.median), ("min", min)):
                themed = function(timings["themed"][page][clock])
                upstream = function(timings["upstream"][page][clock])
                row[f"{clock}_{name}_themed_ms"] = round(themed * 1000, 3)
                row[f"{clock}_{name}_upstream_ms"] = round(upstream * 1000, 3)
                row[f"{clock}_{name}_ratio"] = round(themed / upstream, 3)
        rows.append(row)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        "emails": arguments.emails,
        "rounds": arguments.rounds,
        "repeat": arguments.repeat,
        "goal": GOAL,
        "rows": rows,
    }


def table(summary: dict) -> str:
    lines = [
        "| page | CPU median themed / upstream | ratio | CPU min themed / upstream | ratio "
        "| wall median ratio | wall min ratio | samples |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary["rows"]:
        verdict = "" if row["cpu_median_ratio"] <= summary["goal"] else " (over goal)"
        lines.append(
            f"| {row['page']} "
            f"| {row['cpu_median_themed_ms']:.2f} / {row['cpu_median_upstream_ms']:.2f} ms "
            f"| {row['cpu_median_ratio']:.3f}{verdict} "
            f"| {row['cpu_min_themed_ms']:.2f} / {row['cpu_min_upstream_ms']:.2f} ms "
            f"| {row['cpu_min_ratio']:.3f} | {row['wall_median_ratio']:.3f} "
            f"| {row['wall_min_ratio']:.3f} | {row['samples']} |"
        )
    return "\n".join(lines)


def write_results(summary: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "render.json").write_text(json.dumps(summary, indent=2) + "\n")
    (RESULTS / "render.md").write_text(
        "# Rendering time: Crans theme vs upstream templates\n\n"
        f"`benchmarks/render.py`, {summary['date']}, commit {summary['commit']}, "
        f"{summary['machine']}.\n"
        f"One hyperkitty list of {summary['emails']} emails; SQLite; no Mailman core; DEBUG "
        f"off, offline compression; a visitor's requests through Django's test client.\n"
        f"{summary['rounds']} rounds of {summary['repeat']} requests per page and variant, "
        f"the two variants taking turns. CPU is the rendering process's own time (what\n"
        f"the templates cost, whatever else runs on the machine), wall the request's. "
        f"Goal: ratio <= {summary['goal']}.\n\n"
        f"{table(summary)}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page and round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--profile", choices=sorted(PAGES), help="profile this page instead")
    parser.add_argument(
        "--pages", nargs="+", choices=sorted(PAGES), default=list(PAGES), help="measure only these"
    )
    parser.add_argument("--worker", choices=("prepare", "compress", "serve", "profile"))
    parser.add_argument("--variant", choices=VARIANTS, default="themed", help="internal")
    parser.add_argument(
        "--folder", help="keep the prepared database and static files here (reused when present)"
    )
    arguments = parser.parse_args()
    if arguments.worker:
        worker(arguments)
        return
    with tempfile.TemporaryDirectory(prefix="render-benchmark-") as temporary:
        folder = Path(arguments.folder or temporary)
        prepare(arguments, folder)
        if arguments.profile:
            for variant in VARIANTS:
                print(f"===== {variant}: {arguments.profile}")
                print(run_worker("profile", variant, arguments, folder))
            return
        timings = measure(arguments, folder)
    summary = report(arguments, timings)
    write_results(summary)
    print(table(summary))
    print(f"\nWritten to {RESULTS / 'render.md'} and render.json")


if __name__ == "__main__":
    main()
