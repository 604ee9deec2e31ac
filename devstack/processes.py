"""Ports and processes on this machine: find a free port, wait, end what one started.

Every process is ended by its PID (never by name: other developers run the
same servers on the machine); ``/proc`` tells which processes live and who
started them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

LOOPBACK = "127.0.0.1"

Result = TypeVar("Result")


class WaitError(RuntimeError):
    """What was waited for did not happen in time; the message says what."""


def free_port() -> int:
    """Return a TCP port of the loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((LOOPBACK, port)) == 0


def process_status(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None.

    The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not reaped yet, does not)."""
    status = process_status(pid)
    return status is not None and status[0] != "Z"


def started_at(pid: int) -> str | None:
    """When process ``pid`` started (ticks since boot), to tell it from a later one with its PID."""
    status = process_status(pid)
    return status[19] if status else None


def descendants(pid: int) -> list[int]:
    """Process ids of every live descendant of ``pid``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        status = process_status(int(stat.parent.name))
        if status is not None:
            children.setdefault(int(status[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def end_processes(pids: list[int], timeout: float = 15) -> None:
    """End the processes ``pids`` that still run: SIGTERM, then SIGKILL after ``timeout``."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while (alive := [pid for pid in pids if process_alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """End ``process`` and every process it started, by their PIDs: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    family = descendants(process.pid)
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    end_processes(family, timeout)


def wait_until(
    condition: Callable[[], Result], what: str, timeout: float = 120, interval: float = 0.5
) -> Result:
    """Call ``condition`` until it returns something true, and return that; else ``WaitError``."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise WaitError(f"timed out after {timeout:.0f} s waiting for: {what}")
        time.sleep(interval)
    return result


def tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of the log ``path``."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for_http(url: str, timeout: float, process: subprocess.Popen, log: Path) -> None:
    """Poll ``url`` until it answers (any HTTP status), or raise ``WaitError``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WaitError(
                f"{url}: the server exited with status {process.returncode}; "
                f"see {log}:\n{tail(log)}"
            )
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise WaitError(f"{url} did not answer within {timeout:.0f} s; see {log}:\n{tail(log)}")
