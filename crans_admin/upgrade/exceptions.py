"""Why ``crans_upgrade`` refuses to change anything."""

from __future__ import annotations


class UpgradeError(Exception):
    """The upgrade is refused, with the reason in the message; nothing was changed."""


class DuplicateMembersError(UpgradeError):
    """Old uids of several accounts normalise to one member's uid: none is picked."""

    def __init__(self, message: str, uids: dict[str, list[str]]):
        super().__init__(message)
        self.uids = uids
