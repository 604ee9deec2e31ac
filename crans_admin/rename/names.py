"""A list's names: posting address and list-id, read and checked as Mailman core does."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django_mailman3.models import MailDomain
from hyperkitty.models import MailingList

from .exceptions import RenameError

# Mailman core's default ``[mailman] listname_chars``, which ``create_list``
# (mailman/app/lifecycle.py) applies to the local part, lowercased.
LIST_NAME_CHARACTERS = re.compile(r"[-_.0-9a-z]+")
# A label of a domain, as Mailman's email validator accepts it.
DOMAIN_LABEL = re.compile(r"[a-z0-9][-a-z0-9]*")
NAME_MAX_LENGTH = MailingList._meta.get_field("name").max_length
DISPLAY_NAME_MAX_LENGTH = MailingList._meta.get_field("display_name").max_length


@dataclass(frozen=True)
class ListName:
    """A list's name: posting address ``local_part@domain``, list-id ``local_part.domain``."""

    local_part: str
    domain: str

    def __str__(self) -> str:
        return self.posting_address

    @property
    def posting_address(self) -> str:
        return f"{self.local_part}@{self.domain}"

    @property
    def list_id(self) -> str:
        return f"{self.local_part}.{self.domain}"

    @property
    def default_display_name(self) -> str:
        """The display name Mailman gives a new list (mailman/styles/base.py)."""
        return self.local_part.capitalize()

    @classmethod
    def from_posting_address(cls, address: str) -> ListName:
        local_part, _at, domain = address.partition("@")
        return cls(local_part, domain)


def default_subject_prefix(display_name: str) -> str:
    """The subject prefix Mailman gives a new list: ``[Display name] ``."""
    return f"[{display_name}] "


def known_domains() -> set[str]:
    """Mail domains mailman-web knows: django-mailman3's domains and those of archived lists."""
    domains = set(MailDomain.objects.values_list("mail_domain", flat=True))
    domains.update(
        name.partition("@")[2] for name in MailingList.objects.values_list("name", flat=True)
    )
    domains.discard("")
    return {domain.lower() for domain in domains}


def parse_list_name(value: str, domains: Iterable[str]) -> ListName:
    """Read ``value``, a posting address or a list-id, checked against Mailman's rules.

    A list-id is split at the known domain it ends with: the local part may
    hold dots, so ``a.b.lists.crans.org`` is ``a.b@lists.crans.org`` when
    ``lists.crans.org`` is known, and ambiguous when ``b.lists.crans.org`` is
    known too. Names are lowercased, as Mailman does.
    """
    text = value.strip().lower()
    if "@" in text:
        local_part, _at, domain = text.partition("@")
    else:
        matches = sorted(
            domain for domain in domains if text.endswith(f".{domain}") and text != f".{domain}"
        )
        if not matches:
            raise RenameError(
                _(
                    "%(value)r is no posting address and ends with no known mail domain "
                    "(%(domains)s): give the posting address, e.g. name@lists.example.org."
                )
                % {"value": value, "domains": ", ".join(sorted(domains)) or _("none")}
            )
        if len(matches) > 1:
            candidates = [f"{text[: -len(domain) - 1]}@{domain}" for domain in matches]
            raise RenameError(
                _("The list-id %(value)r is ambiguous (%(candidates)s): give the posting address.")
                % {"value": value, "candidates": _(" or ").join(candidates)}
            )
        domain = matches[0]
        local_part = text[: -len(domain) - 1]
    name = ListName(local_part, domain)
    validate_list_name(name)
    return name


def validate_list_name(name: ListName) -> None:
    """Raise ``RenameError`` unless Mailman core would create a list by this name."""
    if not LIST_NAME_CHARACTERS.fullmatch(name.local_part):
        raise RenameError(
            _(
                "Invalid list name %(name)r: Mailman allows only the letters a-z, digits, "
                "'-', '_' and '.' before the @."
            )
            % {"name": name.local_part}
        )
    labels = name.domain.split(".")
    if len(labels) < 2 or not all(DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise RenameError(_("Invalid mail domain %(domain)r.") % {"domain": name.domain})
    if len(name.posting_address) > NAME_MAX_LENGTH:
        raise RenameError(
            _("The posting address %(address)r is longer than %(max)d characters.")
            % {"address": name.posting_address, "max": NAME_MAX_LENGTH}
        )
