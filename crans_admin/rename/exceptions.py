"""Why a rename is refused or fails: one base class, ``RenameError``, whose message is shown as is.

The command turns any of them into a ``CommandError``, the admin into a form
error. Their messages never hold a database URL: they name a database by its
host, port and name (:func:`crans_admin.text.database_location`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from ..text import utc_minute

if TYPE_CHECKING:
    from ..models import ListRename


class RenameError(Exception):
    """A reason to refuse or a failure of a rename; its message is shown as is."""


class MailmanCoreError(RenameError):
    """Mailman core's side refuses or fails: its database, its var dir, its REST API, its tools."""


class CoreServesOldName(RenameError):
    """mailman-web's side alone, while Mailman core serves the old name (or cannot be asked).

    ``reason``: why core's REST API could not be asked (None: it serves the
    list). :meth:`explained` words the way out for where the rename is asked:
    the command's options (the message), or the admin's settings and box.
    """

    def __init__(self, list_id: str, reason: str | None = None):
        self.list_id = list_id
        self.reason = reason
        super().__init__(
            self.explained(
                _("--core-var-dir, with core's database URL"), "--core-renamed-separately"
            )
        )

    def explained(self, how_to_give_core: str, how_to_say_separately: str) -> str:
        words = {"how": how_to_give_core, "separately": how_to_say_separately}
        if self.reason is None:
            return _(
                "Mailman core still serves %(list)s (its REST API says so): rename core's side "
                "in the same run (%(how)s), or say that core is renamed separately "
                "(%(separately)s)."
            ) % {"list": self.list_id, **words}
        return _(
            "%(error)s Rename Mailman core's side in the same run (%(how)s), or say that "
            "core is renamed separately (%(separately)s)."
        ) % {"error": self.reason, **words}


class UnfinishedRename(RenameError):
    """Another rename of the list is unfinished: it must be resumed or rolled back first."""

    def __init__(self, rename: ListRename):
        self.rename = rename
        super().__init__(unfinished_message(rename))


def unfinished_message(rename: ListRename) -> str:
    return _(
        "The rename #%(id)d of %(old)s to %(new)s (started %(when)s by %(actor)s) is "
        "unfinished: resume it (`mailman-web rename_list --resume %(id)d`, or the same "
        "command again) or roll it back (`--rollback %(id)d`) first."
    ) % {
        "id": rename.pk,
        "old": rename.old_name,
        "new": rename.new_name,
        "when": utc_minute(rename.started_at),
        "actor": rename.actor,
    }
