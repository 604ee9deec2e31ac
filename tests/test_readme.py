"""The README's command lines for the bundle's commands are ones those commands accept."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import load_command_class

README = Path(__file__).resolve().parent.parent / "README.md"
RUNNERS = {"mailman-web", "manage.py"}
COMMANDS = {
    "crans_set_site": "crans_admin",
    "crans_grant_superuser": "crans_admin",
    "rename_list": "crans_admin",
    "crans_doctor": "crans_admin",
    "crans_settings": "crans_mailman_web_settings",
}


def readme_command_lines() -> list[list[str]]:
    """The words of each shell line of the README's ``sh`` blocks that runs a bundle command."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VARIABLE=value first
                words.pop(0)
            if len(words) > 1 and Path(words[0]).name in RUNNERS and words[1] in COMMANDS:
                lines.append(words[1:])
    return lines


def test_the_readme_shows_each_command():
    shown = {words[0] for words in readme_command_lines()}
    assert {"crans_set_site", "crans_grant_superuser", "rename_list", "crans_doctor"} <= shown


@pytest.mark.parametrize("words", readme_command_lines(), ids=" ".join)
def test_readme_command_line_is_accepted(words):
    name, *arguments = words
    command = load_command_class(COMMANDS[name], name)
    command.create_parser("mailman-web", name).parse_args(arguments)
