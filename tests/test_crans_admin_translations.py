"""crans_admin speaks French: every string of the site and superuser tools is translated."""

import gettext
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

APP = Path(__file__).resolve().parent.parent / "crans_admin"
CATALOG = APP / "locale" / "fr" / "LC_MESSAGES"
SOURCES = [
    *(
        APP / "admin" / name
        for name in ("apps.py", "checks.py", "policy.py", "rule.py", "site.py", "sites.py")
    ),
    APP / "admin" / "users.py",
    *sorted((APP / "sites").glob("*.py")),
    *sorted((APP / "superusers").glob("*.py")),
    *sorted((APP / "upgrade").glob("*.py")),
    APP / "doctor" / "upgrade.py",
    APP / "checks.py",
    APP / "conf.py",
    APP / "management" / "commands" / "crans_set_site.py",
    APP / "management" / "commands" / "crans_grant_superuser.py",
    APP / "management" / "commands" / "crans_settings.py",
    APP / "management" / "commands" / "crans_upgrade.py",
]
# The keywords of Django's makemessages for Python files.
KEYWORDS = [
    "gettext_noop",
    "gettext_lazy",
    "ngettext_lazy:1,2",
    "pgettext:1c,2",
    "npgettext:1c,2,3",
    "pgettext_lazy:1c,2",
    "npgettext_lazy:1c,2,3",
    "gettext",
    "ngettext:1,2",
    "_",
]


def compare_with_catalog(
    sources: list[Path], template: Path
) -> tuple[int, subprocess.CompletedProcess]:
    """Extract the strings of ``sources`` into ``template``; compare them with the French catalog.

    Returns the number of strings extracted and ``msgcmp``'s result (0: every one translated).
    """
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            *(f"--keyword={keyword}" for keyword in KEYWORDS),
            f"--output={template}",
            *map(str, sources),
        ],
        check=True,
    )
    compared = subprocess.run(
        ["msgcmp", "--no-fuzzy-matching", str(CATALOG / "django.po"), str(template)],
        capture_output=True,
        text=True,
    )
    return template.read_text().count("msgid"), compared


def test_every_string_has_a_french_translation(tmp_path):
    extracted, compared = compare_with_catalog(SOURCES, tmp_path / "crans_admin.pot")

    assert extracted > 40
    assert compared.returncode == 0, compared.stderr


def test_installed_catalog_is_compiled_from_the_translations(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", f"--output-file={compiled}", str(CATALOG / "django.po")], check=True
    )

    def messages(path: Path) -> dict:
        """The translations of a compiled catalogue, without its header (compilers differ)."""
        with path.open("rb") as file:
            catalog = gettext.GNUTranslations(file)._catalog
        return {key: value for key, value in catalog.items() if key != ""}

    # build_py compiles django.mo at install time (setup.py); a stale one means
    # the .po changed since: reinstall (pip install -e .).
    assert messages(CATALOG / "django.mo") == messages(compiled)


@pytest.mark.django_db
def test_command_errors_in_french():
    with translation.override("fr"), pytest.raises(CommandError) as raised:
        call_command("crans_grant_superuser", "ynerant", stdout=StringIO())

    assert str(raised.value).startswith(
        "Aucun compte n'est relié au nom d'utilisateur CAS 'ynerant'."
    )
    assert "se connecter une fois" in str(raised.value)
