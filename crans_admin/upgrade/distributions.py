"""Distributions other than the bundle that own its modules, and files of its folders it lacks.

Crans' old packages (``allauth-cas-crans``, ``mailman-crans-theme``) have the
bundle's module names, and django-allauth-cas provides ``allauth_cas``. pip
installs the bundle over them without a word, and uninstalling them later
deletes the bundle's own files. Read with ``importlib.metadata`` (RECORD,
``top_level.txt``), on ``sys.path`` unless ``path`` is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import Distribution, distributions
from pathlib import Path

DISTRIBUTION = "crans-mailman-web"
# The bundle's module folders that Crans' old packages also had.
BUNDLE_MODULES = ("allauth_cas_crans", "mailman_crans_theme")
# django-allauth-cas: cannot load with Django 4 and allauth 65.
OLD_MODULES = ("allauth_cas",)
IGNORED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class ForeignDistribution:
    """An installed distribution (not the bundle) owning some of the watched modules."""

    name: str
    version: str
    modules: tuple[str, ...]
    location: str


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def owned_modules(distribution: Distribution, watched: set[str]) -> set[str]:
    """Which of ``watched`` (top-level modules) a distribution owns.

    Read from its file list as text (RECORD, or an egg's installed-files.txt)
    and its top_level.txt: parsing every installed distribution's files would
    cost a few hundred milliseconds at each start-up.
    """
    top_level = distribution.read_text("top_level.txt") or ""
    owned = {line.strip() for line in top_level.splitlines()} & watched
    for listing in ("RECORD", "installed-files.txt"):
        text = distribution.read_text(listing) or ""
        for module in watched - owned:
            if module in text and re.search(
                rf"(^|[/\\]){re.escape(module)}([/\\]|\.py(,|$))", text, re.MULTILINE
            ):
                owned.add(module)
    return owned


def foreign_distributions(path: list[str] | None = None) -> list[ForeignDistribution]:
    """The distributions other than the bundle that own the bundle's modules or ``allauth_cas``."""
    watched = {*BUNDLE_MODULES, *OLD_MODULES}
    found: dict[tuple[str, str], ForeignDistribution] = {}
    for distribution in distributions(**({"path": path} if path is not None else {})):
        owned = tuple(sorted(owned_modules(distribution, watched)))
        # The name only now: parsing every distribution's METADATA is slow.
        name = (distribution.metadata["Name"] or "?") if owned else ""
        if owned and canonical(name) != DISTRIBUTION:
            location = str(distribution.locate_file(""))
            found[(canonical(name), location)] = ForeignDistribution(
                name, distribution.version, owned, location
            )
    return sorted(found.values(), key=lambda d: (canonical(d.name), d.location))


def uninstall_command(foreign: list[ForeignDistribution]) -> str:
    """The pip command that removes ``foreign`` (then the bundle is to be installed again)."""
    return "pip uninstall -y " + " ".join(sorted({canonical(d.name) for d in foreign}))


def bundle_distribution(path: list[str] | None = None) -> Distribution | None:
    for distribution in distributions(**({"path": path} if path is not None else {})):
        if canonical(distribution.metadata["Name"] or "") == DISTRIBUTION:
            return distribution
    return None


def leftover_files(path: list[str] | None = None) -> list[Path]:
    """Files in the bundle's module folders that its own RECORD does not list.

    Left by an older package of the same module name (the old theme's
    templates keep overriding). None found for an editable install (its
    RECORD lists no module file).
    """
    bundle = bundle_distribution(path)
    if bundle is None:
        return []
    listed = {Path(str(file)) for file in bundle.files or []}
    leftovers: list[Path] = []
    for module in BUNDLE_MODULES:
        if not any(file.parts[0] == module for file in listed):
            continue  # editable install: nothing to compare with
        folder = Path(bundle.locate_file(module))
        if not folder.is_dir():
            continue
        for file in sorted(folder.rglob("*")):
            relative = file.relative_to(folder.parent)
            if (
                file.is_file()
                and "__pycache__" not in relative.parts
                and not file.name.endswith(IGNORED_SUFFIXES)
                and relative not in listed
            ):
                leftovers.append(file)
    return leftovers
