"""Which accounts a command or an admin action names.

A member by the username of their CAS account (the account connected to that
CAS uid, whatever its local username); a local account (no CAS account
connected) only when asked for explicitly; an address only when an account
verified it, and only if a single account did.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Literal, TypeVar

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from allauth_cas_crans.conf import PROVIDER_ID
from allauth_cas_crans.uids import normalise_uid, twins

from .exceptions import AmbiguousUserError, UnknownUsersError

SUGGESTIONS = 3
T = TypeVar("T")


def unique(values: Iterable[T]) -> list[T]:
    """Return ``values`` without repeats, in order."""
    return list(dict.fromkeys(values))


def _close_matches(word: str, candidates: Iterable[str]) -> list[str]:
    """Return the candidates closest to ``word``, ignoring case, ``word`` itself left out."""
    by_lowercase = {
        candidate.lower(): candidate
        for candidate in candidates
        if candidate and normalise_uid(candidate) != normalise_uid(word)
    }
    matches = difflib.get_close_matches(word.lower(), by_lowercase, n=SUGGESTIONS)
    return [by_lowercase[match] for match in matches]


def cas_uids(users: Iterable[AbstractUser], using: str = DEFAULT_DB_ALIAS) -> dict[object, str]:
    """Return the CAS uid of each of ``users`` connected to a CAS account, by primary key."""
    return dict(
        SocialAccount.objects.using(using)
        .filter(provider=PROVIDER_ID, user__in=[user.pk for user in users])
        .values_list("user", "uid")
    )


def describe(user: AbstractUser, uid: str | None) -> str:
    """``user``'s username, with its CAS uid when they differ."""
    username = user.get_username()
    if uid is None or uid == username:
        return username
    return _("%(username)s (CAS account %(uid)s)") % {"username": username, "uid": uid}


def _nobody_was_changed(message: str, suggestions: list[str], hint: str) -> str:
    parts = [message]
    if suggestions:
        parts.append(_("Close matches: %(suggestions)s.") % {"suggestions": "; ".join(suggestions)})
    return " ".join([*parts, hint, _("Nobody was changed.")])


def _suggestions(unknown: list[str], candidates: Iterable[str]) -> list[str]:
    candidates = list(candidates)
    return [
        _("%(given)r: maybe %(matches)s")
        % {"given": given, "matches": ", ".join(repr(match) for match in matches)}
        for given in unknown
        if (matches := _close_matches(given, candidates))
    ]


def find_users(
    identifiers: Sequence[str],
    *,
    by: Literal["cas", "local", "email"] = "cas",
    using: str = DEFAULT_DB_ALIAS,
) -> list[AbstractUser]:
    """Return the accounts named by ``identifiers``, in order.

    ``by``: ``"cas"``, CAS usernames (the account connected to that CAS
    uid); ``"local"``, usernames of accounts connected to no CAS account;
    ``"email"``, addresses verified by exactly one account. Raises
    ``UnknownUsersError`` naming every identifier that matches nobody (with
    close matches and hints), ``AmbiguousUserError`` for an address verified
    by several accounts or a username of the other kind.
    """
    identifiers = unique(identifiers)
    finder = {"cas": _find_by_cas_uid, "local": _find_local, "email": _find_by_email}[by]
    found = finder(identifiers, using)
    return list({user.pk: user for user in (found[i] for i in identifiers)}.values())


def _find_by_cas_uid(identifiers: list[str], using: str) -> dict[str, AbstractUser]:
    User = get_user_model()
    accounts = SocialAccount.objects.using(using).select_related("user")
    found = {}
    for name in identifiers:
        # Rows an older provider stored un-normalised ("Bob") count as the member's.
        rows = twins(normalise_uid(name), using)
        if len(rows) > 1:
            uids = [row.uid for row in rows]
            raise AmbiguousUserError(
                _(
                    "The CAS username %(name)r names several accounts made by an earlier "
                    "version of the site (CAS accounts %(uids)s): keep one with mailman-web "
                    "crans_upgrade first. Nobody was changed."
                )
                % {"name": name, "uids": ", ".join(repr(uid) for uid in uids)},
                uids,
            )
        if rows:
            found[name] = rows[0].user
    unknown = [name for name in identifiers if name not in found]
    if unknown:
        local = set(
            User._default_manager.using(using)
            .filter(**{f"{User.USERNAME_FIELD}__in": unknown})
            .exclude(socialaccount__provider=PROVIDER_ID)
            .values_list(User.USERNAME_FIELD, flat=True)
        )
        hints = [
            _(
                "An account is connected to its CAS account when its owner first logs in "
                "through the CAS: ask them to log in once, then try again."
            )
        ]
        if local:
            hints.append(
                _(
                    "%(names)s: a local account of that username exists, not connected to the "
                    "CAS; give --local (or use the admin's action for local accounts) if it is "
                    "the one meant."
                )
                % {"names": ", ".join(repr(name) for name in sorted(local))}
            )
        uids = accounts.filter(provider=PROVIDER_ID).values_list("uid", flat=True)
        raise UnknownUsersError(
            _nobody_was_changed(
                _("No account is connected to the CAS username %(names)s.")
                % {"names": ", ".join(repr(name) for name in unknown)},
                _suggestions(unknown, uids),
                " ".join(hints),
            ),
            unknown,
        )
    return found


def _find_local(identifiers: list[str], using: str) -> dict[str, AbstractUser]:
    User = get_user_model()
    users = User._default_manager.using(using)
    found = {
        user.get_username(): user
        for user in users.filter(**{f"{User.USERNAME_FIELD}__in": identifiers})
    }
    connected = cas_uids(found.values(), using)
    if connected:
        names = [user.get_username() for user in found.values() if user.pk in connected]
        raise AmbiguousUserError(
            _(
                "%(names)s is connected to a CAS account (%(uids)s): name it by its CAS "
                "username, without --local. Nobody was changed."
            )
            % {
                "names": ", ".join(repr(name) for name in names),
                "uids": ", ".join(repr(uid) for uid in sorted(connected.values())),
            },
            names,
        )
    unknown = [name for name in identifiers if name not in found]
    if unknown:
        local_names = users.exclude(socialaccount__provider=PROVIDER_ID).values_list(
            User.USERNAME_FIELD, flat=True
        )
        raise UnknownUsersError(
            _nobody_was_changed(
                _("No local account is named %(names)s.")
                % {"names": ", ".join(repr(name) for name in unknown)},
                _suggestions(unknown, local_names),
                _("Without --local, names are CAS usernames."),
            ),
            unknown,
        )
    return found


def _find_by_email(identifiers: list[str], using: str) -> dict[str, AbstractUser]:
    addresses = EmailAddress.objects.using(using).filter(verified=True).select_related("user")
    found: dict[str, AbstractUser] = {}
    for address in identifiers:
        owners = {held.user for held in addresses.filter(email__iexact=address.strip())}
        if len(owners) > 1:
            names = sorted(user.get_username() for user in owners)
            raise AmbiguousUserError(
                _(
                    "The address %(address)r is verified by several accounts (%(names)s): name "
                    "the member by their CAS username instead. Nobody was changed."
                )
                % {"address": address, "names": ", ".join(names)},
                names,
            )
        if owners:
            found[address] = owners.pop()
    unknown = [address for address in identifiers if address not in found]
    if unknown:
        raise UnknownUsersError(
            _nobody_was_changed(
                ngettext(
                    "No account has verified the address %(names)s.",
                    "No account has verified the addresses %(names)s.",
                    len(unknown),
                )
                % {"names": ", ".join(repr(address) for address in unknown)},
                _suggestions(unknown, addresses.values_list("email", flat=True)),
                _("Only addresses that an account verified count."),
            ),
            unknown,
        )
    return found


def check_cas_connections(
    users: Sequence[AbstractUser], *, local: bool, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Refuse CAS members when ``local``, and local accounts otherwise (the admin's selection).

    Raises ``AmbiguousUserError`` naming the accounts of the wrong kind.
    """
    connected = cas_uids(users, using)
    wrong = [user.get_username() for user in users if (user.pk in connected) is local]
    if not wrong:
        return
    names = ", ".join(repr(name) for name in wrong)
    if local:
        message = _(
            "%(names)s: connected to a CAS account, not a local account. Use the action for "
            "Crans members. Nobody was changed."
        )
    else:
        message = _(
            "%(names)s: a local account, connected to no CAS account. If it is the one meant, "
            "use the action for local accounts. Nobody was changed."
        )
    raise AmbiguousUserError(message % {"names": names}, wrong)


def privileged_users(using: str = DEFAULT_DB_ALIAS) -> QuerySet:
    """Return the users with superuser or staff status, by username."""
    User = get_user_model()
    return (
        User._default_manager.using(using)
        .filter(Q(is_superuser=True) | Q(is_staff=True))
        .order_by(User.USERNAME_FIELD)
    )
