"""Crans' old packages under the bundle: found by the system checks, the upgrade and the doctor.

Real distributions: tiny wheels of the old packages' names and modules (and
one standing for the bundle) are pip-installed into a temporary prefix, the
way they pile up in site-packages, and read with importlib.metadata.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from crans_admin.checks import check_leftover_files, check_old_distributions
from crans_admin.upgrade import foreign_distributions, leftover_files, uninstall_command
from tests.fixtures.commands import run


def wheel(root: Path, name: str, files: dict[str, str]) -> Path:
    """A wheel of the distribution ``name`` 1.0 holding ``files`` (paths in site-packages)."""
    info = f"{name.replace('-', '_')}-1.0.dist-info"
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    path = root / f"{name.replace('-', '_')}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in contents.items():
            archive.writestr(member, text)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def pip_install(prefix: Path, *wheels: Path) -> None:
    # --ignore-installed: else pip would first uninstall the environment's own bundle.
    for path in wheels:  # one after the other, as they were installed over the years
        run(
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            "--prefix",
            str(prefix),
            str(path),
        )


def site_packages(prefix: Path) -> str:
    return sysconfig.get_path("purelib", vars={"base": str(prefix)})


@pytest.fixture(scope="module")
def old_site(tmp_path_factory) -> str:
    """site-packages with django-allauth-cas, Crans' two old packages, then the bundle over them."""
    root = tmp_path_factory.mktemp("projects")
    prefix = tmp_path_factory.mktemp("prefix")
    pip_install(
        prefix,
        wheel(root, "django-allauth-cas", {"allauth_cas/__init__.py": ""}),
        wheel(root, "allauth-cas-crans", {"allauth_cas_crans/__init__.py": "OLD = 1\n"}),
        wheel(
            root,
            "mailman-crans-theme",
            {
                "mailman_crans_theme/__init__.py": "",
                "mailman_crans_theme/templates/old_only.html": "old",
                "mailman_crans_theme/templates/both.html": "old",
            },
        ),
        wheel(
            root,
            "crans-mailman-web",
            {
                "allauth_cas_crans/__init__.py": "",
                "mailman_crans_theme/__init__.py": "",
                "mailman_crans_theme/templates/both.html": "new",
            },
        ),
    )
    return site_packages(prefix)


def test_old_distributions_are_found_with_their_modules(old_site):
    found = {(d.name, d.modules) for d in foreign_distributions([old_site])}

    assert found == {
        ("django-allauth-cas", ("allauth_cas",)),
        ("allauth-cas-crans", ("allauth_cas_crans",)),
        ("mailman-crans-theme", ("mailman_crans_theme",)),
    }
    assert uninstall_command(foreign_distributions([old_site])) == (
        "pip uninstall -y allauth-cas-crans django-allauth-cas mailman-crans-theme"
    )


def test_the_system_check_names_the_uninstall_to_run_before_reinstalling(old_site):
    [error] = check_old_distributions([old_site])

    assert error.id == "crans.E008"
    assert "pip uninstall -y allauth-cas-crans django-allauth-cas mailman-crans-theme" in (
        error.hint
    )
    assert "then install the bundle again" in error.hint


def test_old_theme_files_the_bundle_does_not_ship_are_named(old_site):
    leftovers = leftover_files([old_site])

    assert [path.relative_to(old_site).as_posix() for path in leftovers] == [
        "mailman_crans_theme/templates/old_only.html"
    ]
    [error] = check_leftover_files([old_site])
    assert error.id == "crans.E009" and "old_only.html" in error.msg


def test_every_command_stops_while_they_are_installed(old_site, monkeypatch):
    monkeypatch.syspath_prepend(old_site)

    with pytest.raises(SystemCheckError) as stopped:
        call_command("check")

    assert "crans.E008" in str(stopped.value) and "crans.E009" in str(stopped.value)


def test_the_upgrade_lists_them_to_fix_by_hand(old_site, monkeypatch, db, capsys):
    monkeypatch.syspath_prepend(old_site)

    with pytest.raises(SystemExit) as checked:
        call_command("crans_upgrade", "--check")

    assert checked.value.code == 1
    out = capsys.readouterr().out
    assert "pip uninstall -y allauth-cas-crans django-allauth-cas mailman-crans-theme" in out
    assert "old_only.html" in out


def test_an_installed_site_has_none(db):
    assert check_old_distributions() == [] and check_leftover_files() == []


def test_the_doctor_reports_them(old_site, monkeypatch):
    from crans_admin.doctor import CHECKS, Status

    assert CHECKS["old-packages"].function(10).status == Status.OK
    monkeypatch.syspath_prepend(old_site)

    finding = CHECKS["old-packages"].function(10)

    assert finding.status == Status.ERROR
    assert "pip uninstall -y allauth-cas-crans django-allauth-cas mailman-crans-theme" in (
        finding.fix
    )
    # Once: the settings check leaves them to this one.
    assert CHECKS["settings"].function(10).status == Status.OK
