"""French: the theme's catalogue is valid, compiled as Django reads it, and complete."""

from __future__ import annotations

import gettext
import os
import shutil
import sys
from pathlib import Path

import pytest
from django.utils import translation

from tests.fixtures.commands import run

REPO = Path(__file__).resolve().parent.parent
THEME = REPO / "mailman_crans_theme"
PO_FILE = THEME / "locale" / "fr" / "LC_MESSAGES" / "django.po"
# Strings that French writes the same way (translated as themselves upstream).
SAME_IN_FRENCH = {"version", "Archives", "%(counter)s message", "Info", "Volume", "Date", "Votes"}


def compiled(po_file: Path, mo_file: Path) -> dict[str, str]:
    """The messages of ``po_file`` as GNU msgfmt compiles them (untranslated ones left out)."""
    run("msgfmt", "--check", "-o", str(mo_file), str(po_file))
    with mo_file.open("rb") as catalogue:
        messages = gettext.GNUTranslations(catalogue)._catalog
    return {msgid: msgstr for msgid, msgstr in messages.items() if msgid}


def test_catalogue_is_valid_and_fully_translated(tmp_path):
    run("msgfmt", "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO_FILE))
    untranslated = run("msgattrib", "--untranslated", "--no-obsolete", str(PO_FILE)).stdout
    assert "msgid" not in untranslated, untranslated


def test_django_reads_the_catalogue_as_it_is_now(tmp_path):
    """The compiled .mo that Django uses (built by the packaging) matches the .po."""
    messages = compiled(PO_FILE, tmp_path / "django.mo")
    assert "Log in with your Crans account" in messages
    with translation.override("fr"):
        for msgid, msgstr in messages.items():
            if isinstance(msgid, tuple):  # (singular, plural form's index)
                assert translation.ngettext(msgid[0], msgid[0], 2 if msgid[1] else 1) == msgstr
            else:
                assert translation.gettext(msgid) == msgstr


def theme_messages(tmp_path: Path) -> set[str]:
    """Every translatable string of the theme's templates, extracted by makemessages."""
    app = tmp_path / "app"
    shutil.copytree(THEME / "templates", app / "templates")
    (app / "locale").mkdir()
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    run(
        sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-location",
        cwd=app, env=environment,
    )  # fmt: skip
    extracted = app / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    # msgen copies each msgid to its msgstr, so that msgfmt keeps them all.
    english = tmp_path / "english.po"
    run("msgen", "-o", str(english), str(extracted))
    # Plural messages by their singular (gettext finds the singular form of both).
    return {
        msgid[0] if isinstance(msgid, tuple) else msgid
        for msgid in compiled(english, tmp_path / "english.mo")
    }


def test_every_string_of_the_theme_templates_shows_in_french(tmp_path):
    """Strings the theme adds come from its catalogue, the ones it keeps from upstream's."""
    messages = theme_messages(tmp_path)
    assert "Log in with your Crans account" in messages
    assert "Powered by" in messages  # kept from hyperkitty's footer
    with translation.override("fr"):
        untranslated = {
            msgid for msgid in messages - SAME_IN_FRENCH if translation.gettext(msgid) == msgid
        }
    assert not untranslated


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("Log in with your Crans account", "Se connecter avec son compte Crans"),
        ("Crans website", "Site du Crans"),
        # Hyperkitty's own French says "proviennent de Les 30 derniers jours".
        ("The following statistics are from", "Les statistiques qui suivent portent sur"),
        ("the past <strong>30</strong> days:", "les <strong>30</strong> derniers jours :"),
        # The date of the overview's threads (upstream: "lun Nov 30, 2:02 après-midi").
        ("D M j, g:i a", "D j N, H:i"),
        # Postorius' French has it fuzzy, as "S'identifier" (sign in).
        ("Sign Out", "Se déconnecter"),
    ],
)
def test_french_wording(english, french):
    with translation.override("fr"):
        assert translation.gettext(english) == french
    with translation.override("en"):
        assert translation.gettext(english) == english
