"""The README and the pages of docs/: their command lines and the links between them.

Every command line that runs a bundle command (a ``sh`` block's line, or an inline
``mailman-web ...`` / ``manage.py ...``) is one that command's own parser accepts; a line
naming a ``crans_*`` or ``rename_list`` command that the bundle does not have fails. Every
relative link leads to a file that exists and, with ``#anchor``, to one of its headings.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

REPO = Path(__file__).resolve().parent.parent
INDEX = REPO / "docs" / "README.md"
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNERS = {"mailman-web", "manage.py"}
# The apps of the bundle; their commands are the ones checked.
BUNDLE_APPS = {
    "mailman_crans_theme",
    "allauth_cas_crans",
    "crans_admin",
    "crans_mailman_web_settings",
}
# A name the bundle's commands are given: a command line naming one must name a command.
BUNDLE_COMMAND_NAME = re.compile(r"crans_\w+|rename_list")

FENCE = re.compile(r"^```[^\n]*\n.*?^```[ \t]*$", flags=re.S | re.M)
SHELL_BLOCK = re.compile(r"^```(?:sh|bash|shell|console)[ \t]*\n(.*?)^```", flags=re.S | re.M)
INLINE_CODE = re.compile(r"(`+)(.+?)\1", flags=re.S)
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", flags=re.M)
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", flags=re.M)


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def command_words(line: str) -> list[str] | None:
    """The words from the command's name on, when ``line`` runs mailman-web or manage.py."""
    words = shlex.split(line, comments=True)
    if words[:1] == ["$"]:  # a console prompt
        words.pop(0)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):  # VARIABLE=value first
        words.pop(0)
    if words and re.fullmatch(r"python[0-9.]*", Path(words[0]).name):  # python manage.py
        words.pop(0)
    if len(words) > 1 and Path(words[0]).name in RUNNERS:
        return words[1:]
    return None


def runs_a_command(text: str) -> bool:
    """Whether ``text`` (an inline code span) starts like a mailman-web or manage.py line."""
    words = [word for word in text.split() if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", word)]
    if words and re.fullmatch(r"python[0-9.]*", Path(words[0]).name):
        words.pop(0)
    return len(words) > 1 and Path(words[0]).name in RUNNERS


def command_lines(page: Path) -> list[list[str]]:
    """The words of each command line of ``page`` that runs a bundle command (or seems to)."""
    text = page.read_text()
    lines = [
        line
        for block in SHELL_BLOCK.findall(text)
        for line in block.replace("\\\n", " ").splitlines()
    ]
    prose = FENCE.sub("", text)
    lines += [span for _, span in INLINE_CODE.findall(prose) if runs_a_command(span)]
    found = []
    for line in lines:
        words = command_words(line)
        if words and BUNDLE_COMMAND_NAME.fullmatch(words[0]):
            found.append(words)
    return found


ALL_COMMAND_LINES = [(page, words) for page in PAGES for words in command_lines(page)]


@cache
def bundle_commands() -> dict[str, str]:
    """The bundle's management commands installed now: name -> app."""
    return {name: app for name, app in get_commands().items() if app in BUNDLE_APPS}


def test_the_pages_show_each_command_of_the_bundle():
    shown = {words[0] for _, words in ALL_COMMAND_LINES}
    assert {"crans_set_site", "crans_grant_superuser", "rename_list", "crans_doctor"} <= shown
    assert set(bundle_commands()) - shown == set()


@pytest.mark.parametrize(
    "page, words",
    ALL_COMMAND_LINES,
    ids=[f"{relative(page)}: {' '.join(words)}" for page, words in ALL_COMMAND_LINES],
)
def test_command_line_is_accepted(page, words):
    name, *arguments = words
    assert name in bundle_commands(), f"{relative(page)} runs {name}, which the bundle lacks"
    command = load_command_class(bundle_commands()[name], name)
    command.create_parser("mailman-web", name).parse_args(arguments)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, no punctuation, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of the headings of ``page`` (a repeated heading gets -1, -2...)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        anchor = slug(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def links(page: Path) -> list[str]:
    """The link targets of ``page``, outside code."""
    prose = INLINE_CODE.sub("", FENCE.sub("", page.read_text()))
    return LINK.findall(prose) + REFERENCE.findall(prose)


def link_problem(page: Path, target: str) -> str | None:
    """What is wrong with the relative link ``target`` of ``page``, None if nothing is."""
    path, _, anchor = target.partition("#")
    destination = (page.parent / path).resolve() if path else page
    if not destination.exists():
        return f"{target}: no file {destination}"
    if anchor:
        if destination.suffix != ".md":
            return f"{target}: an anchor into a file that is not a page"
        if anchor not in anchors(destination):
            return f"{target}: {relative(destination)} has no heading #{anchor}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_links_between_pages_lead_somewhere(page):
    problems = [
        link_problem(page, target)
        for target in links(page)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # https:, mailto:...
    ]
    assert [problem for problem in problems if problem] == []


def test_the_index_links_every_page():
    linked = {(INDEX.parent / target.partition("#")[0]).resolve() for target in links(INDEX)}
    assert [relative(page) for page in PAGES[1:] if page not in {INDEX, *linked}] == []


def test_slugs_are_the_ones_github_gives():
    assert (
        slug("Debian 13 (trixie): Debian's mailman3-web") == "debian-13-trixie-debians-mailman3-web"
    )
    assert slug("The Site: `crans_set_site`") == "the-site-crans_set_site"
    assert slug("Renaming a list: [rename_list](x.md)") == "renaming-a-list-rename_list"
