"""Why a superuser change is refused; nothing was changed."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied


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


class AmbiguousUserError(SuperuserError):
    """An identifier names several accounts, or the wrong kind of account."""
