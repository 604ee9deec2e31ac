"""The web database's side of a rename: the list's row and its templates, and back."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _
from hyperkitty.models import MailingList
from postorius.models import EmailTemplate

from .exceptions import RenameError
from .names import ListName
from .plan import RenamePlan, find_empty_row


def rename_web_rows(plan: RenamePlan, *, first_run: bool, mark_done: Callable[[], None]) -> None:
    """The web database's part, in one transaction with ``mark_done()``, unless it is done.

    On the first run the rows must be as planned; a resumed run merges the
    empty row of the new name found then (core may have run meanwhile).
    """
    with transaction.atomic():
        mailing_list = (
            MailingList.objects.select_for_update().filter(pk=plan.mailing_list_id).first()
        )
        if mailing_list is not None and mailing_list.name == plan.new.posting_address:
            mark_done()
            return
        empty_row = find_empty_row(plan.new)
        if (
            mailing_list is None
            or mailing_list.name != plan.old.posting_address
            or (first_run and empty_row != plan.empty_row)
        ):
            raise RenameError(
                _(
                    "%(old)s or %(new)s changed since the plan was made: nothing was "
                    "changed on the web side."
                )
                % {"old": plan.old, "new": plan.new}
            )
        if empty_row is not None:
            mailing_list.owners.add(*empty_row.owner_ids)
            mailing_list.moderators.add(*empty_row.moderator_ids)
            MailingList.objects.filter(pk=empty_row.id).delete()
        _set_names(
            plan.mailing_list_id,
            plan.old_list_id,
            plan.new,
            plan.new_display_name,
            plan.new_subject_prefix,
        )
        mark_done()


def undo_web_rows(plan: RenamePlan) -> None:
    """Give the list row and its templates their old names back, unless they have them.

    A merged empty row of the new name is not brought back: it held nothing.
    """
    with transaction.atomic():
        mailing_list = (
            MailingList.objects.select_for_update().filter(pk=plan.mailing_list_id).first()
        )
        if mailing_list is None or mailing_list.name != plan.new.posting_address:
            return
        _set_names(
            plan.mailing_list_id,
            plan.new.list_id,
            ListName.from_posting_address(plan.old.posting_address),
            plan.old_display_name,
            plan.old_subject_prefix,
            list_id=plan.old_list_id,
        )


def _set_names(
    mailing_list_id: int,
    templates_list_id: str,
    name: ListName,
    display_name: str,
    subject_prefix: str,
    *,
    list_id: str | None = None,
) -> None:
    MailingList.objects.filter(pk=mailing_list_id).update(
        name=name.posting_address,
        list_id=list_id or name.list_id,
        display_name=display_name,
        subject_prefix=subject_prefix,
    )
    # QuerySet.update(): EmailTemplate.save() would call core's REST API.
    EmailTemplate.objects.filter(context="list", identifier=templates_list_id).update(
        identifier=list_id or name.list_id
    )
