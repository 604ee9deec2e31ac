"""Debian root filesystems with Debian's mailman3-web, cached between runs.

``debian_root(folder, suite, packages)`` unpacks into ``folder`` a root
filesystem made once by ``debootstrap --variant=minbase SUITE`` from the
Debian mirror of this machine's own apt sources, with ``apt-get install
--no-install-recommends`` of ``packages`` (no service started:
``policy-rc.d`` exits 101). Defaults: Debian 13 (trixie) and the README's
``PACKAGES``; the replica of Crans' old site uses Debian 11 (bullseye). Each
made root filesystem is kept as a tar file under ``CACHE_DIR``, named after a
hash of what makes it (suite, mirror, packages, this file's recipe version).
``mounted_proc(root)`` mounts ``/proc`` inside for the time of a ``with``;
``unpacked_root(folder, ...)`` is both, the root filesystem removed afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

SUITE = "trixie"
# The README's Debian 13 packages (tests/test_debian13.py checks the README says so).
PACKAGES = ("mailman3-web", "python3-pip")
CACHE_DIR = Path(os.environ.get("CRANS_DEBIAN_CACHE_DIR", "/var/cache/crans-mailman-web"))
RECIPE_VERSION = "1"
APT_SOURCES = Path("/etc/apt")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def debian_mirror(apt_dir: Path = APT_SOURCES) -> str:
    """Return the Debian mirror of this machine's apt sources (not the security one)."""
    uris = []
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        uris += re.findall(r"^URIs:\s*(\S+)", path.read_text(), flags=re.MULTILINE)
    for path in [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]:
        if path.exists():
            uris += re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", path.read_text(), re.MULTILINE)
    mirrors = [uri for uri in uris if "security" not in uri]
    if not mirrors:
        raise RuntimeError(f"No Debian mirror in the apt sources of {apt_dir}")
    return mirrors[0]


def chroot(root: Path, *command: str, user: str | None = None, env=None, **kwargs):
    """Run ``command`` inside ``root`` with a clean environment (and as ``user``)."""
    userspec = [f"--userspec={user}:{user}"] if user else []
    environment = {"PATH": PATH, "HOME": "/tmp", "LC_ALL": "C.UTF-8", **(env or {})}
    assignments = [f"{name}={value}" for name, value in environment.items()]
    return subprocess.run(
        ["chroot", *userspec, str(root), "env", "-i", *assignments, *command],
        capture_output=True,
        text=True,
        **kwargs,
    )


def checked(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Return ``result``, or fail with its command and output."""
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(result.args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


@contextlib.contextmanager
def mounted_proc(root: Path) -> Iterator[None]:
    """Mount ``/proc`` inside ``root`` for the time of the block, then unmount it."""
    mount = ["mount", "-t", "proc", "proc", str(root / "proc")]
    checked(subprocess.run(mount, capture_output=True, text=True))
    try:
        yield
    finally:
        checked(subprocess.run(["umount", str(root / "proc")], capture_output=True, text=True))


def cache_path(mirror: str, suite: str = SUITE, packages: Sequence[str] = PACKAGES) -> Path:
    """The cached root filesystem of ``suite`` with ``packages``: named after what makes it."""
    recipe = "\n".join([RECIPE_VERSION, suite, mirror, *sorted(packages)])
    return CACHE_DIR / f"{suite}-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}.tar"


def build(root: Path, mirror: str, suite: str = SUITE, packages: Sequence[str] = PACKAGES) -> None:
    """debootstrap ``root`` and install ``packages`` without starting any service."""
    checked(
        subprocess.run(
            ["debootstrap", "--variant=minbase", suite, str(root), mirror],
            capture_output=True,
            text=True,
            timeout=1800,
        )
    )
    policy = root / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\n# No service starts in this root filesystem.\nexit 101\n")
    policy.chmod(0o755)
    environment = {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    with mounted_proc(root):
        checked(chroot(root, *install, env=environment, timeout=1800))
        checked(chroot(root, "apt-get", "clean", timeout=300))


def debian_root(folder: Path, suite: str = SUITE, packages: Sequence[str] = PACKAGES) -> Path:
    """Unpack the cached root filesystem of ``suite`` with ``packages`` into ``folder``
    (making the cache on first use)."""
    cached = cache_path(debian_mirror(), suite, packages)
    if not cached.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=CACHE_DIR))
        try:
            made = scratch / "root"
            build(made, debian_mirror(), suite, packages)
            partial = scratch / cached.name
            checked(subprocess.run(["tar", "-C", str(made), "-cf", str(partial), "."]))
            partial.rename(cached)  # Only a whole tar file ever has the cached name.
        finally:
            unmount_under(scratch)  # debootstrap mounts /proc and /sys while it works
            shutil.rmtree(scratch)
    folder.mkdir(parents=True, exist_ok=True)
    checked(subprocess.run(["tar", "-C", str(folder), "-xf", str(cached)], capture_output=True))
    return folder


@contextlib.contextmanager
def unpacked_root(
    folder: Path, suite: str = SUITE, packages: Sequence[str] = PACKAGES
) -> Iterator[Path]:
    """``debian_root`` unpacked into ``folder``, ``/proc`` mounted inside for the time of
    the block; removed afterwards, whatever happens."""
    root = debian_root(folder, suite, packages)
    try:
        with mounted_proc(root):
            yield root
    finally:
        remove(root)


def unmount_under(folder: Path) -> None:
    """Unmount whatever is still mounted below ``folder``, deepest first."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(f"{folder}/")), reverse=True):
        checked(subprocess.run(["umount", "--lazy", mount], capture_output=True, text=True))


def remove(root: Path) -> None:
    """Remove an unpacked root filesystem, nothing mounted inside it any more."""
    unmount_under(root)
    # rm's C loop, about twice shutil.rmtree's speed on a root filesystem's many small files.
    checked(subprocess.run(["rm", "-rf", "--one-file-system", str(root)], capture_output=True))


def copy_wheels(root: Path, wheels: Path) -> None:
    """Copy the wheels of the folder ``wheels`` into ``root``'s ``/tmp/wheels``."""
    inside = root / "tmp" / "wheels"
    inside.mkdir(exist_ok=True)
    for wheel in wheels.iterdir():
        (inside / wheel.name).write_bytes(wheel.read_bytes())


def make_wheels(folder: Path, sources: Sequence[Path], downloads: Sequence[str] = ()) -> Path:
    """Wheels of ``sources`` (project folders) and of ``downloads`` (requirements), made
    outside the root filesystem with this machine's pip (the root filesystem has no index)."""
    pip = [sys.executable, "-m", "pip", "-q"]
    for source in sources:
        command = [*pip, "wheel", "--no-deps", "-w", str(folder), str(source)]
        checked(subprocess.run(command, capture_output=True, text=True))
    if downloads:
        command = [*pip, "download", "--no-deps", "-d", str(folder), *downloads]
        checked(subprocess.run(command, capture_output=True, text=True))
    return folder


class Debian:
    """The root filesystem, run through Debian's manage.py as www-data."""

    def __init__(self, root: Path, env: dict[str, str], install_output: str) -> None:
        self.root = root
        self.env = env
        self.install_output = install_output

    def manage(
        self, *args: str, check: bool = True, env: dict | None = None, **kwargs
    ) -> subprocess.CompletedProcess:
        """Run Debian's manage.py as www-data (with ``env`` instead of the usual one)."""
        manage_py = "/usr/share/mailman3-web/manage.py"
        environment = self.env if env is None else env
        result = chroot(
            self.root, "python3", manage_py, *args, user="www-data", env=environment, **kwargs
        )
        return checked(result) if check else result

    def python(self, code: str, **kwargs) -> dict:
        """Run ``code`` in Debian's ``manage.py shell``; the JSON it prints last."""
        result = self.manage("shell", "-c", code, **kwargs)
        return json.loads(result.stdout.strip().splitlines()[-1])


def reported_checks(output: str) -> set[str]:
    """The ids of the system check messages in ``output``."""
    return {line.split(")")[0].strip("?: (") for line in output.splitlines() if ": (" in line}
