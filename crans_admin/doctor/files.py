"""Checks of the files mailman-web serves: offline compression, static files, translations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..checks import THEME
from .registry import Finding, check, error, ok, some, warning

COMPRESS_TAG = re.compile(r"{%\s*compress\b")
# The apps whose pages members see (the admin's other apps speak English).
MEMBER_APPS = frozenset(
    {
        THEME,
        "allauth_cas_crans",
        "crans_admin",
        "postorius",
        "hyperkitty",
        "django_mailman3",
        "allauth",
        "django",
    }
)
# mtimes of a .po and its .mo written by one installation differ by moments.
CATALOGUE_SLACK = 60.0


def template_files() -> dict[str, Path]:
    """Every template the Django engines would find, by name (the first found wins)."""
    found: dict[str, Path] = {}

    def folders(loaders) -> Iterable[Path]:
        for loader in loaders:
            if hasattr(loader, "loaders"):  # the cached loader
                yield from folders(loader.loaders)
            elif hasattr(loader, "get_dirs"):
                yield from (Path(folder) for folder in loader.get_dirs())

    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        for folder in folders(engine.engine.template_loaders):
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    found.setdefault(path.relative_to(folder).as_posix(), path)
    return found


@check("compress", gettext_lazy("Offline compression (compress)"), timeout=20.0)
def check_compress(timeout: float) -> Finding:
    if not (settings.COMPRESS_ENABLED and settings.COMPRESS_OFFLINE):
        seen = _("Offline compression is off (COMPRESS_ENABLED, COMPRESS_OFFLINE).")
        if settings.DEBUG:
            return ok(seen)
        return warning(
            seen,
            _(
                "Set COMPRESS_ENABLED and COMPRESS_OFFLINE to True and run mailman-web "
                "compress: otherwise every hyperkitty page compiles its stylesheets."
            ),
        )
    root = Path(settings.COMPRESS_ROOT)
    manifest = root / settings.COMPRESS_OUTPUT_DIR / settings.COMPRESS_OFFLINE_MANIFEST
    fix = _("Run mailman-web compress (after collectstatic), then restart mailman-web.")
    if not manifest.is_file():
        return error(
            _("No offline manifest at %(path)s: every page with a {%% compress %%} block fails.")
            % {"path": manifest},
            fix,
        )
    compressed_at = manifest.stat().st_mtime
    changed = [
        name
        for name, path in template_files().items()
        if path.stat().st_mtime > compressed_at
        and COMPRESS_TAG.search(path.read_text(errors="replace"))
    ]
    if changed:
        return error(
            _(
                "%(count)d template(s) with a {%% compress %%} block changed after the offline "
                "manifest was written: %(names)s. Their pages may fail."
            )
            % {"count": len(changed), "names": some(changed)},
            fix,
        )
    try:
        entries = manifest.read_text()
    except OSError as exception:
        return error(
            _("%(path)s cannot be read: %(error)s") % {"path": manifest, "error": exception}, fix
        )
    # The manifest's entries are HTML naming the compressed files (JSON-escaped).
    output = settings.COMPRESS_OUTPUT_DIR.strip("/")
    named = re.findall(rf"{re.escape(output)}/(?:css|js)/[^\s\"'?#\\]+", entries)
    missing = sorted({name for name in named if not (root / name).is_file()})
    if missing:
        return error(
            _("The offline manifest names files that are missing: %(names)s.")
            % {"names": some(missing)},
            fix,
        )
    return ok(
        _("The offline manifest %(path)s is newer than every template it compresses.")
        % {"path": manifest}
    )


@check("static", gettext_lazy("Static files collected (collectstatic)"), timeout=20.0)
def check_static(timeout: float) -> Finding:
    from django.contrib.staticfiles.finders import get_finders

    fix = _("Run mailman-web collectstatic --noinput (then compress).")
    root = Path(settings.STATIC_ROOT) if settings.STATIC_ROOT else None
    if root is None or not root.is_dir():
        return error(
            _("STATIC_ROOT (%(path)s) is not a folder: no stylesheet, script or image is served.")
            % {"path": root},
            fix,
        )
    sources: dict[str, Path] = {}
    for finder in get_finders():
        for name, storage in finder.list(["CVS", ".*", "*~"]):
            prefix = getattr(storage, "prefix", None)
            sources.setdefault(f"{prefix}/{name}" if prefix else name, Path(storage.path(name)))
    missing, stale = [], []
    for name, source in sorted(sources.items()):
        try:
            collected = (root / name).stat().st_mtime
        except FileNotFoundError:
            missing.append(name)
            continue
        if source.stat().st_mtime > collected:
            stale.append(name)
    if missing:
        return error(
            _("%(count)d of %(total)d static files are missing from %(root)s: %(names)s.")
            % {"count": len(missing), "total": len(sources), "root": root, "names": some(missing)},
            fix,
        )
    if stale:
        return warning(
            _("%(count)d static files changed after they were collected into %(root)s: %(names)s.")
            % {"count": len(stale), "root": root, "names": some(stale)},
            fix,
        )
    return ok(
        _("The %(total)d static files are collected in %(root)s.")
        % {"total": len(sources), "root": root}
    )


def locale_folders() -> list[Path]:
    """LOCALE_PATHS and the ``locale`` folder of each installed app that members see."""
    folders = [Path(folder) for folder in settings.LOCALE_PATHS]
    folders += [
        Path(app.path) / "locale"
        for app in apps.get_app_configs()
        if app.name.partition(".")[0] in MEMBER_APPS
    ]
    return [folder for folder in folders if folder.is_dir()]


@check("translations", gettext_lazy("Compiled translation catalogues (compilemessages)"))
def check_translations(timeout: float) -> Finding:
    offered = {code.lower() for code, _name in settings.LANGUAGES}
    missing: dict[Path, list[str]] = {}
    stale: dict[Path, list[str]] = {}
    catalogues = 0
    for folder in locale_folders():
        for source in sorted(folder.glob("*/LC_MESSAGES/*.po")):
            language = source.parent.parent.name
            if translation.to_language(language) not in offered:
                continue
            catalogues += 1
            compiled = source.with_suffix(".mo")
            if not compiled.is_file():
                missing.setdefault(folder.parent, []).append(f"{language}/{source.name}")
            elif source.stat().st_mtime > compiled.stat().st_mtime + CATALOGUE_SLACK:
                stale.setdefault(folder.parent, []).append(f"{language}/{source.name}")
    problems = missing or stale
    if problems:
        details = [f"{folder}: {some(names)}" for folder, names in problems.items()]
        seen = (
            _("%(count)d catalogue(s) are not compiled: those pages show English.")
            if missing
            else _("%(count)d compiled catalogue(s) are older than their .po file.")
        ) % {"count": sum(len(names) for names in problems.values())}
        fix = _(
            "Run mailman-web compilemessages in each folder below (pip installs the .po "
            "files only), then restart mailman-web."
        )
        return (error if missing else warning)(seen, fix, details)
    return ok(
        _("The %(count)d catalogues of the offered languages are compiled.") % {"count": catalogues}
    )
