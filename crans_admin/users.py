"""Superuser status: who has it, granting it, revoking it.

The admin needs both ``is_superuser`` and ``is_staff``: granting sets both,
revoking clears both. Changes are all or nothing: if one user cannot be
changed, none is. At least one active superuser is kept unless forced.
Every change is logged (logger ``crans_admin``, mailman-web's log file) with
who made it; the admin also records it in its own log (``LogEntry``), which
needs a Django user and so is not written for the commands.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

SUGGESTIONS = 3
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


class LastSuperuserError(SuperuserError):
    """Revoking would leave no active superuser."""


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


def _unknown_users_error(
    unknown: list[str], candidates: list[str], *, by_email: bool
) -> UnknownUsersError:
    suggestions = [
        _("%(given)r: maybe %(matches)s")
        % {"given": given, "matches": ", ".join(repr(match) for match in matches)}
        for given in unknown
        if (matches := _close_matches(given, candidates))
    ]
    names = ", ".join(repr(given) for given in unknown)
    if by_email:
        message = ngettext(
            "No user has the e-mail address %(names)s.",
            "No user has the e-mail addresses %(names)s.",
            len(unknown),
        ) % {"names": names}
    else:
        message = _("No user is named %(names)s.") % {"names": names}
    parts = [message]
    if suggestions:
        parts.append(_("Close matches: %(suggestions)s.") % {"suggestions": "; ".join(suggestions)})
    parts.append(
        _(
            "An account is created when its owner first logs in through the CAS: ask them "
            "to log in once, then try again. Nobody was changed."
        )
    )
    return UnknownUsersError(" ".join(parts), unknown)


def find_users(
    identifiers: Sequence[str], *, by_email: bool = False, using: str = DEFAULT_DB_ALIAS
) -> list[AbstractUser]:
    """Return the users named by ``identifiers`` (usernames, or e-mail addresses), in order.

    An address matches a user's own e-mail or one of their allauth addresses.
    Raise ``UnknownUsersError`` naming every identifier that matches nobody,
    with close matches, and ``SuperuserError`` for an address of several users.
    """
    User = get_user_model()
    users = User._default_manager.using(using)
    identifiers = _unique(identifiers)
    found: dict[str, AbstractUser] = {}
    if by_email:
        for address in identifiers:
            matches = list(
                users.filter(Q(email__iexact=address) | Q(emailaddress__email__iexact=address))
                .distinct()
                .order_by(User.USERNAME_FIELD)
            )
            if len(matches) > 1:
                raise SuperuserError(
                    _(
                        "The e-mail address %(address)r belongs to several users (%(names)s): "
                        "give their usernames instead. Nobody was changed."
                    )
                    % {
                        "address": address,
                        "names": ", ".join(user.get_username() for user in matches),
                    },
                    [user.get_username() for user in matches],
                )
            if matches:
                found[address] = matches[0]
    else:
        lookup = {f"{User.USERNAME_FIELD}__in": identifiers}
        found = {user.get_username(): user for user in users.filter(**lookup)}
    unknown = [identifier for identifier in identifiers if identifier not in found]
    if unknown:
        if by_email:
            candidates = [
                *users.values_list("email", flat=True),
                *EmailAddress.objects.using(using).values_list("email", flat=True),
            ]
        else:
            candidates = list(users.values_list(User.USERNAME_FIELD, flat=True))
        raise _unknown_users_error(unknown, candidates, by_email=by_email)
    return list({user.pk: user for user in (found[i] for i in identifiers)}.values())


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
    force: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> SuperuserChange:
    """Say what granting (or revoking) superuser status to ``users`` changes.

    Granting to an inactive user raises ``InactiveUsersError`` unless
    ``activate``; revoking the last active superusers raises
    ``LastSuperuserError`` unless ``force``.
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
        _check_a_superuser_remains(users, force=force, using=using)
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


def _check_a_superuser_remains(users: Sequence[AbstractUser], *, force: bool, using: str) -> None:
    User = get_user_model()
    superusers = set(
        User._default_manager.using(using)
        .select_for_update()
        .filter(is_superuser=True, is_active=True)
        .values_list("pk", flat=True)
    )
    revoked = [user for user in users if user.pk in superusers]
    if revoked and len(revoked) == len(superusers) and not force:
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
    force: bool = False,
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
            force=force,
            using=using,
        )
        return plan if dry_run else apply_superuser_change(plan, actor=actor, using=using)
