"""The Postfix map that keeps mail to a renamed list's old addresses arriving.

``mailman aliases`` regenerates core's ``postfix_lmtp`` and ``postfix_domains``
from core's lists: after a rename they hold the new addresses and no longer the
old ones, and Postfix refuses mail to the old addresses. This map, a Postfix
``virtual_alias_maps`` table that ``mailman aliases`` never touches, sends each
old address (posting, -owner, -request, -bounces...) to the new one. Core takes
the mail (its posting address is an acceptable alias of the renamed list, so
replies to old threads are not held).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext as _

# The addresses Mailman core gives a list (mailman/mta/postfix.py).
SUFFIXES = (
    "",
    "-bounces",
    "-confirm",
    "-join",
    "-leave",
    "-owner",
    "-request",
    "-subscribe",
    "-unsubscribe",
)
HEADER = (
    "# Old addresses of renamed mailing lists, kept by `mailman-web rename_list`.\n"
    "# Postfix: virtual_alias_maps = hash:{path} (in main.cf, once); postmap {path}\n"
)


def addresses(posting_address: str) -> list[str]:
    """Every address Mailman core gives the list ``posting_address``."""
    local_part, _at, domain = posting_address.partition("@")
    return [f"{local_part}{suffix}@{domain}" for suffix in SUFFIXES]


def alias_lines(old: str, new: str) -> list[str]:
    """The lines of the Postfix map that send mail for ``old``'s addresses to ``new``'s."""
    return [
        f"{source} {target}" for source, target in zip(addresses(old), addresses(new), strict=True)
    ]


def postfix_instructions(old: str, new: str, alias_map: Path | None) -> list[str]:
    """What to tell the operator about mail to the old addresses."""
    where = (
        _("written to %(map)s; run `postmap %(map)s`") % {"map": alias_map}
        if alias_map is not None
        else _("add them to a Postfix virtual_alias_maps table, then run postmap on it")
    )
    return [
        _(
            "Mail to %(old)s: `mailman aliases` regenerates core's postfix_lmtp and "
            "postfix_domains with %(new)s only; these lines keep the old addresses "
            "arriving (%(where)s):"
        )
        % {"old": old, "new": new, "where": where},
        *alias_lines(old, new),
    ]


def read_map(path: Path) -> str | None:
    """The map's text, or None when it does not exist yet."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def update_map(path: Path, old: str, new: str) -> None:
    """Send ``old``'s addresses to ``new``'s in the map; earlier names follow to ``new``.

    Renaming back to a name of the map takes it out (it is a list's again).
    Doing it twice changes nothing more.
    """
    entries: dict[str, str] = {}
    for line in (read_map(path) or "").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            source, _space, target = line.strip().partition(" ")
            entries[source] = target.strip()
    followed = dict(zip(addresses(old), addresses(new), strict=True))
    entries = {source: followed.get(target, target) for source, target in entries.items()}
    for source in addresses(new):
        entries.pop(source, None)
    entries.update(followed)
    write_map(
        path,
        HEADER.format(path=path) + "".join(f"{s} {t}\n" for s, t in entries.items()),
    )


def write_map(path: Path, text: str | None) -> None:
    """Replace the map's text at once (None: remove the map)."""
    if text is None:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
