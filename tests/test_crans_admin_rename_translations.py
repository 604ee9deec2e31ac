"""The rename speaks French: every string of its modules, command and pages is translated."""

import subprocess
from pathlib import Path

from django.utils import translation

from tests.test_crans_admin_translations import CATALOG, KEYWORDS

APP = Path(__file__).resolve().parent.parent / "crans_admin"
SOURCES = [
    APP / "admin_lists.py",
    APP / "models.py",
    APP / "management" / "commands" / "rename_list.py",
    *sorted((APP / "rename").glob("*.py")),
]


def test_every_rename_string_has_a_french_translation(tmp_path):
    template = tmp_path / "rename.pot"
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            *(f"--keyword={keyword}" for keyword in KEYWORDS),
            f"--output={template}",
            *map(str, SOURCES),
        ],
        check=True,
    )
    assert template.read_text().count("msgid") > 100
    compared = subprocess.run(
        ["msgcmp", "--no-fuzzy-matching", str(CATALOG / "django.po"), str(template)],
        capture_output=True,
        text=True,
    )
    assert compared.returncode == 0, compared.stderr


def test_the_history_page_strings_are_translated():
    with translation.override("fr"):
        assert translation.gettext("Renames") == "Renommages"
        assert translation.gettext("unfinished") == "inachevé"
