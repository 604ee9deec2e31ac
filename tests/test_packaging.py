"""The wheel installs beside mailman-web 0.0.9 in a fresh virtualenv and runs there."""

import os
import re
import sys
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.commands import run

REPO = Path(__file__).resolve().parent.parent
APPS = ("mailman_crans_theme", "allauth_cas_crans", "crans_admin", "crans_mailman_web_settings")
SECRETS = {
    "MAILMAN_WEB_SECRET_KEY": "a-secret-key-for-the-tests-only-0123456789-abcdefghijklmnop",
    "MAILMAN_REST_API_PASS": "rest-password",
    "MAILMAN_ARCHIVER_KEY": "archiver-key",
    "MAILMAN_WEB_DB_PASSWORD": "database-password",
}


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> tuple[Path, str]:
    """The wheel, and what its build printed."""
    folder = tmp_path_factory.mktemp("wheel")
    result = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-v",
        "-w",
        str(folder),
        str(REPO),
        timeout=900,
    )
    (path,) = folder.glob("crans_mailman_web-*.whl")
    return path, result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheel(build) -> Path:
    return build[0]


def test_the_build_gives_no_warning(build):
    assert "Created wheel for crans-mailman-web" in build[1]
    # setuptools' own: BuildBackendWarning, SetuptoolsDeprecationWarning...
    assert re.findall(r"\w+Warning\b", build[1]) == [], build[1]


def test_wheel_requires_only_the_apps_debian_13_packages_and_python_cas(wheel):
    """pip would replace a Debian package whose metadata asks for what Debian lacks."""
    metadata = zipfile.ZipFile(wheel).read("crans_mailman_web-1.0.0.dist-info/METADATA").decode()
    required = {
        line.split(": ", 1)[1].split(";")[0].replace(" ", "")
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    assert required == {
        "Django<5.1,>=4.2",
        "django-allauth<66,>=65",
        "django-mailman3<1.4,>=1.3",
        "python-cas<2,>=1.6",
        "psycopg2<3,>=2.9",
    }


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory, wheel) -> Path:
    """A new virtualenv with the wheel and its extra mailman-web (PyPI's mailman-web 0.0.9)."""
    folder = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", str(folder))
    run(str(folder / "bin" / "pip"), "install", "-q", f"{wheel}[mailman-web]", timeout=900)
    return folder


def test_wheel_ships_the_apps_and_no_generic_top_level_module(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith("-info")}
    assert top_level == set(APPS)
    assert "crans_mailman_web_settings/production.py" in names


def test_wheel_ships_templates_static_files_and_compiled_translations(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for app in ("mailman_crans_theme", "allauth_cas_crans", "crans_admin"):
        assert any(name.startswith(f"{app}/") for name in names)
    assert any(name.startswith("mailman_crans_theme/templates/") for name in names)
    assert any(name.startswith("mailman_crans_theme/static/") for name in names)
    assert "mailman_crans_theme/locale/fr/LC_MESSAGES/django.po" in names
    assert "mailman_crans_theme/locale/fr/LC_MESSAGES/django.mo" in names


def mailman_web(venv: Path, *args: str, env: dict[str, str], cwd: Path):
    (cwd / "logs").mkdir(exist_ok=True)
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "MAILMAN_WEB_CONFIG", "PYTHONPATH")
    }
    environment |= {**SECRETS, "MAILMAN_WEB_BASE_DIR": str(cwd), **env}
    return run(str(venv / "bin" / "mailman-web"), *args, env=environment, cwd=cwd)


def test_mailman_web_check_with_the_settings_module(fresh_venv, tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.production"}
    result = mailman_web(fresh_venv, "check", env=env, cwd=tmp_path)
    assert "System check identified no issues" in result.stdout


def test_crans_settings_says_they_are_active_on_pypi_mailman_web(fresh_venv, tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.production"}
    result = mailman_web(fresh_venv, "crans_settings", env=env, cwd=tmp_path)
    assert (
        "Crans' settings are active (crans_mailman_web_settings.production) "
        "on PyPI's mailman-web." in result.stdout
    )


def test_mailman_web_check_with_a_config_file(fresh_venv, tmp_path):
    config = tmp_path / "etc" / "settings.py"
    config.parent.mkdir()
    config.write_text("from crans_mailman_web_settings.production import *  # noqa: F403\n")
    result = mailman_web(fresh_venv, "check", env={"MAILMAN_WEB_CONFIG": str(config)}, cwd=tmp_path)
    assert "System check identified no issues" in result.stdout


def test_the_crans_commands_are_there(fresh_venv, tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.production"}
    result = mailman_web(fresh_venv, "help", "--commands", env=env, cwd=tmp_path)
    commands = set(result.stdout.split())
    assert {"crans_set_site", "crans_grant_superuser", "rename_list"} <= commands


def test_wheel_holds_every_module_of_the_apps(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for app in APPS[:-1]:
        for module in (REPO / app).rglob("*.py"):
            assert module.relative_to(REPO).as_posix() in names
    for module in (REPO / "settings").rglob("*.py"):
        assert f"crans_mailman_web_settings/{module.relative_to(REPO / 'settings')}" in names
