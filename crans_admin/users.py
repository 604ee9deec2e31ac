"""Superuser status: who has it, granting it, revoking it.

The admin needs both ``is_superuser`` and ``is_staff``: granting sets both,
revoking clears both. Changes are all or nothing: if one user cannot be
changed, none is. At least one active superuser is always kept.

Who is meant: a member by the username of their CAS account (the account
connected to that CAS uid, whatever its local username); a local account
(no CAS account connected) only when asked for explicitly; an address only
when an account verified it, and only if a single account did.
Every change is logged (logger ``crans_admin``, mailman-web's log file) with
who made it; the admin also records it in its own log (``LogEntry``), which
needs a Django user and so is not written for the commands.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
CAS_PROVIDER = "crans"  # allauth_cas_crans' provider id
T = TypeVar("T")


class SuperuserError(Exception):
    """A change refused, with the reason in the message; nothing was changed."""

    def __init__(self, message: str, usernames: Sequence[str] = ()):
        super().__init__(message)
        self.usernames = tuple(usernames)


class UnknownUsersError(SuperuserError):
    """Some of the given usernames or addresses match no user."""


class InactiveUsersError(SuperuserError):
    """Superuser status was asked for deactivated accounts."""


class LastSuperuserError(SuperuserError, PermissionDenied):
    """Revoking would leave no active superuser (a 403 page if no one catches it)."""


@dataclass(frozen=True)
class UserUpdate:
    """The fields of one user that a change sets (none if the user is already as asked)."""

    user: AbstractUser
    updates: Mapping[str, bool]

    @property
    def username(self) -> str:
        return self.user.get_username()

    @property
    def reactivated(self) -> bool:
        return self.updates.get("is_active", False)


@dataclass(frozen=True)
class SuperuserChange:
    """Granting (``grant``) or revoking superuser status for some users; a plan until applied."""

    grant: bool
    users: tuple[UserUpdate, ...]
    applied: bool = False

    @property
    def changed(self) -> list[UserUpdate]:
        return [update for update in self.users if update.updates]

    @property
    def unchanged(self) -> list[UserUpdate]:
        return [update for update in self.users if not update.updates]


def _unique(values: Iterable[T]) -> list[T]:
    """Return ``values`` without repeats, in order."""
    return list(dict.fromkeys(values))


def _close_matches(word: str, candidates: Iterable[str]) -> list[str]:
    """Return the candidates closest to ``word``, ignoring case."""
    by_lowercase = {candidate.lower(): candidate for candidate in candidates if candidate}
    matches = difflib.get_close_matches(word.lower(), by_lowercase, n=SUGGESTIONS)
    return [by_lowercase[match] for match in matches]


class AmbiguousUserError(SuperuserError):
    """An identifier names several accounts, or the wrong kind of account."""


def cas_uids(users: Iterable[AbstractUser], using: str = DEFAULT_DB_ALIAS) -> dict[object, str]:
    """Return the CAS uid of each of ``users`` connected to a CAS account, by primary key."""
    return dict(
        SocialAccount.objects.using(using)
        .filter(provider=CAS_PROVIDER, user__in=[user.pk for user in users])
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
    identifiers = _unique(identifiers)
    finder = {"cas": _find_by_cas_uid, "local": _find_local, "email": _find_by_email}[by]
    found = finder(identifiers, using)
    return list({user.pk: user for user in (found[i] for i in identifiers)}.values())


def _find_by_cas_uid(identifiers: list[str], using: str) -> dict[str, AbstractUser]:
    User = get_user_model()
    accounts = SocialAccount.objects.using(using).select_related("user")
    by_uid = {
        account.uid: account.user
        for account in accounts.filter(
            provider=CAS_PROVIDER, uid__in=[name.strip().lower() for name in identifiers]
        )
    }
    found = {
        name: by_uid[name.strip().lower()] for name in identifiers if name.strip().lower() in by_uid
    }
    unknown = [name for name in identifiers if name not in found]
    if unknown:
        local = set(
            User._default_manager.using(using)
            .filter(**{f"{User.USERNAME_FIELD}__in": unknown})
            .exclude(socialaccount__provider=CAS_PROVIDER)
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
        uids = accounts.filter(provider=CAS_PROVIDER).values_list("uid", flat=True)
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
        local_names = users.exclude(socialaccount__provider=CAS_PROVIDER).values_list(
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


def plan_superuser_change(
    users: Sequence[AbstractUser],
    *,
    grant: bool,
    activate: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> SuperuserChange:
    """Say what granting (or revoking) superuser status to ``users`` changes.

    Granting to an inactive user raises ``InactiveUsersError`` unless
    ``activate``; revoking the last active superusers raises
    ``LastSuperuserError``.
    """
    if activate and not grant:
        raise ValueError("Only granting superuser status can reactivate an account.")
    if grant:
        inactive = [user.get_username() for user in users if not user.is_active]
        if inactive and not activate:
            raise InactiveUsersError(
                ngettext(
                    "The account %(names)s is deactivated. Nobody was changed.",
                    "The accounts %(names)s are deactivated. Nobody was changed.",
                    len(inactive),
                )
                % {"names": ", ".join(repr(name) for name in inactive)},
                inactive,
            )
        wanted = {"is_superuser": True, "is_staff": True}
        if activate:
            wanted["is_active"] = True
    else:
        check_a_superuser_remains(users, using=using)
        wanted = {"is_superuser": False, "is_staff": False}
    return SuperuserChange(
        grant=grant,
        users=tuple(
            UserUpdate(
                user,
                {field: value for field, value in wanted.items() if getattr(user, field) != value},
            )
            for user in users
        ),
    )


def check_a_superuser_remains(
    users: Iterable[AbstractUser], *, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Raise ``LastSuperuserError`` if ``users`` are all the active superusers (rows locked).

    For any change that takes superuser status or activity away from
    ``users``, or deletes them.
    """
    User = get_user_model()
    with transaction.atomic(using=using):
        superusers = set(
            User._default_manager.using(using)
            .select_for_update()
            .filter(is_superuser=True, is_active=True)
            .values_list("pk", flat=True)
        )
    revoked = [user for user in users if user.pk in superusers]
    if revoked and len(revoked) == len(superusers):
        names = [user.get_username() for user in revoked]
        raise LastSuperuserError(
            ngettext(
                "%(names)s is the last active superuser: revoking would leave nobody able "
                "to administer the site. Nobody was changed.",
                "%(names)s are the last active superusers: revoking would leave nobody "
                "able to administer the site. Nobody was changed.",
                len(names),
            )
            % {"names": ", ".join(repr(name) for name in names)},
            names,
        )


def keep_a_superuser_on_save(
    sender: type[AbstractUser],
    instance: AbstractUser,
    raw: bool = False,
    using: str = DEFAULT_DB_ALIAS,
    update_fields: Iterable[str] | None = None,
    **kwargs: object,
) -> None:
    """``pre_save`` receiver: refuse to save the last active superuser without that status."""
    if raw or instance.pk is None or (instance.is_superuser and instance.is_active):
        return
    if update_fields is not None and not {"is_superuser", "is_active"} & set(update_fields):
        return
    managed = sender._default_manager.using(using)
    if managed.filter(pk=instance.pk, is_superuser=True, is_active=True).exists():
        check_a_superuser_remains([instance], using=using)


def keep_a_superuser_on_delete(
    sender: type[AbstractUser],
    instance: AbstractUser,
    using: str = DEFAULT_DB_ALIAS,
    **kwargs: object,
) -> None:
    """``pre_delete`` receiver: refuse to delete the last active superuser."""
    if instance.is_superuser and instance.is_active:
        check_a_superuser_remains([instance], using=using)


def apply_superuser_change(
    plan: SuperuserChange, *, actor: str, using: str = DEFAULT_DB_ALIAS
) -> SuperuserChange:
    """Save ``plan``; return it marked as applied."""
    for update in plan.changed:
        for field, value in update.updates.items():
            setattr(update.user, field, value)
        update.user.save(using=using, update_fields=list(update.updates))
        logger.info(
            "User %r changed by %s: %s",
            update.username,
            actor,
            ", ".join(f"{field}={value}" for field, value in update.updates.items()),
        )
    return replace(plan, applied=True)


def change_superusers(
    users: Iterable[AbstractUser],
    *,
    grant: bool,
    actor: str,
    activate: bool = False,
    dry_run: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> SuperuserChange:
    """Grant (or revoke) superuser status to ``users`` in one transaction, rows locked."""
    User = get_user_model()
    ids = _unique(user.pk for user in users)
    with transaction.atomic(using=using):
        locked = User._default_manager.using(using).select_for_update().in_bulk(ids)
        plan = plan_superuser_change(
            [locked[pk] for pk in ids if pk in locked],
            grant=grant,
            activate=activate,
            using=using,
        )
        return plan if dry_run else apply_superuser_change(plan, actor=actor, using=using)
