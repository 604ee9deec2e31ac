"""``manage.py`` from a clone: any folder, a clear message before the database exists, --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def manage(*args: str, local_dir: Path, cwd: Path) -> subprocess.CompletedProcess:
    environment = {
        **{name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"},
        "MAILMAN_WEB_LOCAL_DIR": str(local_dir),
    }
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_before_the_database_exists_a_command_says_how_to_create_it(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = manage("crans_grant_superuser", "--list", local_dir=tmp_path / "var", cwd=elsewhere)
    assert result.returncode == 1
    assert "holds no database yet" in result.stderr and "manage.py migrate" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "mailman-web.db").exists()
    assert list(elsewhere.iterdir()) == []  # nothing made in the current folder


def test_help_needs_no_database(tmp_path):
    result = manage("rename_list", "--help", local_dir=tmp_path / "var", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--core-var-dir" in result.stdout


def test_from_another_folder_commands_use_the_database_of_the_local_folder(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    local_dir = tmp_path / "var"
    assert manage("migrate", "-v", "0", local_dir=local_dir, cwd=elsewhere).returncode == 0
    result = manage("crans_grant_superuser", "--list", local_dir=local_dir, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (local_dir / "mailman-web.db").stat().st_size > 0
    assert list(elsewhere.iterdir()) == []
