"""Crans uids stored un-normalised by django-allauth-cas, normalised as the provider reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.utils.translation import gettext as _

from allauth_cas_crans.conf import PROVIDER_ID
from allauth_cas_crans.uids import groups_to_normalise

from ..text import utc_minute


@dataclass(frozen=True)
class AccountSummary:
    """One account that an old uid names, with what would be lost by dropping it."""

    uid: str
    user_id: int
    username: str
    email: str
    last_login: datetime | None
    votes: int
    favorites: int
    addresses: int
    subscriptions: int | None  # None: Mailman core not asked or not reachable

    def describe(self) -> str:
        return _(
            "CAS account %(uid)r: user %(username)r (id %(id)d, e-mail %(email)s, last login "
            "%(login)s): %(votes)d vote(s), %(favorites)d favourite(s), %(addresses)d "
            "address(es), %(subscriptions)s subscription(s)"
        ) % {
            "uid": self.uid,
            "username": self.username,
            "id": self.user_id,
            "email": self.email or "-",
            "login": utc_minute(self.last_login) if self.last_login else _("never"),
            "votes": self.votes,
            "favorites": self.favorites,
            "addresses": self.addresses,
            "subscriptions": "?" if self.subscriptions is None else self.subscriptions,
        }


@dataclass(frozen=True)
class UidPlan:
    """The rows to normalise (old uid, new uid, user id), and the uids with several rows."""

    renames: tuple[tuple[str, str, int], ...]
    duplicates: dict[str, tuple[AccountSummary, ...]]


def subscriptions(addresses: list[str]) -> int | None:
    """How many list memberships Mailman core holds for ``addresses``; None if unreachable."""
    try:
        from django_mailman3.lib.mailman import get_mailman_client

        client = get_mailman_client()
        return sum(len(client.find_members(address)) for address in addresses)
    except Exception:  # core down, refused, timed out: the count is only a help
        return None


def summary(account: SocialAccount) -> AccountSummary:
    from hyperkitty.models import Favorite, Vote

    user = account.user
    addresses = list(EmailAddress.objects.filter(user=user).values_list("email", flat=True))
    return AccountSummary(
        uid=account.uid,
        user_id=user.pk,
        username=user.get_username(),
        email=user.email,
        last_login=user.last_login,
        votes=Vote.objects.filter(user=user).count(),
        favorites=Favorite.objects.filter(user=user).count(),
        addresses=len(addresses),
        subscriptions=subscriptions(addresses or [user.email]) if user.email else None,
    )


def plan_uids() -> UidPlan:
    """What normalising the crans uids would do."""
    renames, duplicates = [], {}
    for uid, rows in groups_to_normalise().items():
        if len(rows) > 1:
            duplicates[uid] = tuple(summary(row) for row in rows)
        else:
            renames.append((rows[0].uid, uid, rows[0].user_id))
    return UidPlan(tuple(renames), duplicates)


def duplicates_message(duplicates: dict[str, tuple[AccountSummary, ...]]) -> str:
    """The refusal: each member's accounts, and how to choose."""
    lines = [
        _(
            "Several accounts were made for one Crans member by an earlier version of the "
            "site (their old CAS usernames differ only in case or spaces); none is picked:"
        )
    ]
    for uid, accounts in duplicates.items():
        lines.append(_("- %(uid)s:") % {"uid": uid})
        lines.extend(f"    {account.describe()}" for account in accounts)
    lines.append(
        _(
            "Keep one account per member: usually the one with the latest login and the "
            "most votes, favourites and addresses. For each other one, delete its CAS account "
            "in the admin (Social accounts, the row of its old CAS username): it stays a "
            "local account, with its data. To merge it, first move its addresses to the kept "
            "account (Email addresses, change the user; subscriptions follow the addresses in "
            "Mailman core), then delete it (its votes and favourites go with it). Then run "
            "mailman-web crans_upgrade again. Nothing was changed."
        )
    )
    return "\n".join(lines)


def normalise_uids(plan: UidPlan) -> int:
    """Give each planned row its normalised uid; return how many changed."""
    return sum(
        SocialAccount.objects.filter(provider=PROVIDER_ID, uid=old, user_id=user_id).update(uid=new)
        for old, new, user_id in plan.renames
    )
