"""Build step of crans-mailman-web: compile the apps' message catalogues.

Only the ``.po`` sources are kept in git. ``build_py`` compiles each app's
``locale/<lang>/LC_MESSAGES/django.po`` to the ``django.mo`` that Django reads:
into the wheel for ``pip install .``, next to the ``.po`` in the source tree
for ``pip install -e .`` (setuptools runs build_py with ``editable_mode`` set).
Everything else about the package is in pyproject.toml.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

APPS = ("mailman_crans_theme", "allauth_cas_crans", "crans_admin")
ROOT = Path(__file__).resolve().parent


def compile_catalogues(destination: Path) -> list[Path]:
    """Compile every app's ``django.po`` to ``django.mo`` under ``destination``."""
    compiled = []
    for app in APPS:
        for po_path in sorted((ROOT / app).glob("locale/*/LC_MESSAGES/django.po")):
            mo_path = destination / po_path.relative_to(ROOT).with_suffix(".mo")
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, abort_invalid=True)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            compiled.append(mo_path)
    return compiled


class BuildPyWithCatalogues(build_py):
    """``build_py`` that also compiles the message catalogues."""

    def run(self):
        super().run()
        destination = ROOT if self.editable_mode else Path(self.build_lib)
        for mo_path in compile_catalogues(destination):
            self.announce(f"compiled {mo_path}", level=2)


setup(cmdclass={"build_py": BuildPyWithCatalogues})
