"""The rename speaks French: every string of its modules, command and pages is translated."""

from pathlib import Path

from django.utils import translation

from tests.test_crans_admin_translations import compare_with_catalog

APP = Path(__file__).resolve().parent.parent / "crans_admin"
SOURCES = [
    APP / "admin" / "lists.py",
    APP / "models.py",
    APP / "management" / "commands" / "rename_list.py",
    *sorted((APP / "rename").glob("*.py")),
    APP / "text.py",  # how a database is named in the rename's messages
]


def test_every_rename_string_has_a_french_translation(tmp_path):
    extracted, compared = compare_with_catalog(SOURCES, tmp_path / "rename.pot")
    assert extracted > 100
    assert compared.returncode == 0, compared.stderr


def test_the_history_page_strings_are_translated():
    with translation.override("fr"):
        assert translation.gettext("Renames") == "Renommages"
        assert translation.gettext("unfinished") == "inachevé"
