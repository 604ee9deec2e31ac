"""``manage.py`` from a clone: any folder, a clear message before the database exists, --help."""

from __future__ import annotations

import pytest


@pytest.fixture
def elsewhere(tmp_path):
    """A folder other than the clone, to run ``manage.py`` from."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_before_the_database_exists_a_command_says_how_to_create_it(
    run_manage, tmp_path, elsewhere
):
    result = run_manage("crans_grant_superuser", "--list", check=False, cwd=elsewhere)
    assert result.returncode == 1
    assert "holds no database yet" in result.stderr and "manage.py migrate" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "mailman-web.db").exists()
    assert list(elsewhere.iterdir()) == []  # nothing made in the current folder


def test_help_needs_no_database(run_manage, elsewhere):
    result = run_manage("rename_list", "--help", cwd=elsewhere)
    assert "--core-var-dir" in result.stdout


def test_from_another_folder_commands_use_the_database_of_the_local_folder(
    run_manage, tmp_path, elsewhere
):
    run_manage("migrate", "-v", "0", cwd=elsewhere)
    result = run_manage("crans_grant_superuser", "--list", cwd=elsewhere)
    assert result.stdout.strip() == "No user has superuser or staff status."
    assert (tmp_path / "var" / "mailman-web.db").stat().st_size > 0
    assert list(elsewhere.iterdir()) == []
