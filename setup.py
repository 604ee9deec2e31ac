"""Build step of crans-mailman-web: the packages, and the apps' compiled message catalogues.

Each app folder is a package, and so is every folder under it (templates,
static files, translations: setuptools then ships their files as package data
without a warning for each). ``settings/`` is installed as
``crans_mailman_web_settings``. Only the ``.po`` sources are kept in git:
``build_py`` compiles each app's ``locale/<lang>/LC_MESSAGES/django.po`` to
the ``django.mo`` that Django reads: into the wheel for ``pip install .``,
next to the ``.po`` in the source tree for ``pip install -e .`` (setuptools
runs build_py with ``editable_mode`` set). Everything else is in pyproject.toml.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# Source folder -> installed package.
APPS = {
    "mailman_crans_theme": "mailman_crans_theme",
    "allauth_cas_crans": "allauth_cas_crans",
    "crans_admin": "crans_admin",
    "settings": "crans_mailman_web_settings",
}


def packages() -> list[str]:
    """Every app and every folder under it, by installed name."""
    found = []
    for folder, package in APPS.items():
        found.append(package)
        subpackages = find_namespace_packages(ROOT / folder, exclude=["*__pycache__*"])
        found.extend(f"{package}.{name}" for name in subpackages)
    return found


def compile_catalogues(destination: Path, editable: bool) -> list[Path]:
    """Compile every app's ``django.po`` to ``django.mo`` under ``destination``."""
    compiled = []
    for folder, package in APPS.items():
        for po_path in sorted((ROOT / folder).glob("locale/*/LC_MESSAGES/django.po")):
            relative = po_path.relative_to(ROOT / folder).with_suffix(".mo")
            mo_path = destination / (folder if editable else package) / relative
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
        for mo_path in compile_catalogues(destination, self.editable_mode):
            self.announce(f"compiled {mo_path}", level=2)


setup(
    packages=packages(),
    package_dir={"crans_mailman_web_settings": "settings"},
    package_data={"": ["*"]},
    cmdclass={"build_py": BuildPyWithCatalogues},
)
