"""The admin's "rename" page of an archived list: form, then dry-run report, then confirmation.

It extends hyperkitty's ``MailingListAdmin`` (registered in its place), so
everything hyperkitty offers stays. The rename is the one of ``mailman-web
rename_list`` (:mod:`crans_admin.rename`). Mailman core's side is part of it
when the settings name core's database and var dir
(:func:`crans_admin.rename.settings_core_options`: core must then be stopped;
the page never skips that check). The list's change page shows its renames; an
unfinished rename is resumed or rolled back with the command.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from hyperkitty.admin import MailingListAdmin
from hyperkitty.models import MailingList

from ..conf import CORE_DB_URL, CORE_VAR_DIR, crans_admin_settings
from ..rename import (
    DISPLAY_NAME_MAX_LENGTH,
    NAME_MAX_LENGTH,
    CoreServesOldName,
    RenameError,
    RenamePlan,
    apply_rename,
    history_of_list,
    plan_digest,
    plan_rename,
    settings_core_options,
    unfinished_message,
    unfinished_rename_of,
)


class RenameListForm(forms.Form):
    """The new name of ``mailing_list``; valid once the rename is planned without objection."""

    new_name = forms.CharField(
        label=gettext_lazy("New name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy(
            "Posting address (name@lists.example.org) or list-id (name.lists.example.org)."
        ),
    )
    display_name = forms.CharField(
        label=gettext_lazy("New display name"),
        required=False,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        help_text=gettext_lazy("Empty: the new name before the @, capitalised, as Mailman does."),
    )
    allow_new_domain = forms.BooleanField(
        label=gettext_lazy("Allow a mail domain that mailman-web does not know yet"),
        required=False,
    )
    core_renamed_separately = forms.BooleanField(
        label=gettext_lazy("Mailman core is renamed separately"),
        required=False,
        help_text=gettext_lazy(
            "When this site does not rename Mailman core's side: rename the archives even if "
            "core still serves the list under its old name."
        ),
    )
    digest = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, mailing_list: MailingList, **kwargs):
        super().__init__(*args, **kwargs)
        self.mailing_list = mailing_list
        self.plan: RenamePlan | None = None

    def clean(self):
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        unfinished = unfinished_rename_of(self.mailing_list.pk)
        if unfinished is not None:
            raise forms.ValidationError(unfinished_message(unfinished), code="unfinished")
        try:
            core = settings_core_options()
            self.plan = plan_rename(
                self.mailing_list.name,
                cleaned_data["new_name"],
                display_name=cleaned_data["display_name"] or None,
                allow_new_domain=cleaned_data["allow_new_domain"],
                core=core,
                core_renamed_separately=core is None and cleaned_data["core_renamed_separately"],
            )
        except CoreServesOldName as error:
            # The page gives core's side through the settings, and has a box for the rest.
            message = error.explained(
                _("the settings %(db_url)s and %(var_dir)s")
                % {"db_url": CORE_DB_URL, "var_dir": CORE_VAR_DIR},
                _("the box “%(box)s”") % {"box": self.fields["core_renamed_separately"].label},
            )
            raise forms.ValidationError(message, code="refused") from error
        except RenameError as error:
            raise forms.ValidationError(str(error), code="refused") from error
        return cleaned_data

    @property
    def confirmed(self) -> bool:
        """True when the report the user confirmed is the one that would be applied now."""
        return self.cleaned_data["digest"] == plan_digest(self.plan)


class CransMailingListAdmin(MailingListAdmin):
    change_form_template = "admin/crans_admin/mailinglist_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        mailing_list = self.get_object(request, unquote(object_id))
        renames = history_of_list(mailing_list.pk) if mailing_list is not None else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "renames": renames}
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/rename/",
                self.admin_site.admin_view(self.rename_view),
                name="hyperkitty_mailinglist_rename",
            ),
            *super().get_urls(),
        ]

    def rename_view(self, request, object_id):
        mailing_list = self.get_object(request, unquote(object_id))
        if mailing_list is None:
            raise Http404(_("No archived list with id %(id)r.") % {"id": object_id})
        if not self.has_change_permission(request, mailing_list):
            raise PermissionDenied
        if request.method != "POST":
            form = RenameListForm(mailing_list=mailing_list)
            return self.render_rename(request, mailing_list, form)
        form = RenameListForm(request.POST, mailing_list=mailing_list)
        if not form.is_valid():
            return self.render_rename(request, mailing_list, form)
        if "confirm" not in request.POST or not form.confirmed:
            if "confirm" in request.POST:
                form.add_error(
                    None, _("The list changed since the report was shown: check it again.")
                )
            return self.render_rename(request, mailing_list, form, plan=form.plan)
        try:
            report = apply_rename(
                form.plan, actor=f"{request.user.get_username()} through the admin"
            )
        except RenameError as error:
            form.add_error(None, str(error))
            return self.render_rename(request, mailing_list, form)
        mailing_list.refresh_from_db()
        self.log_change(
            request,
            mailing_list,
            _("Renamed %(old)s to %(new)s.") % {"old": report.plan.old, "new": report.plan.new},
        )
        self.message_user(
            request,
            _("Renamed %(old)s to %(new)s; %(count)d email(s) reindexed.")
            % {"old": report.plan.old, "new": report.plan.new, "count": report.reindexed},
            messages.SUCCESS,
        )
        if report.follow_up:
            self.message_user(request, report.follow_up, messages.WARNING)
        return HttpResponseRedirect(
            reverse("admin:hyperkitty_mailinglist_change", args=[mailing_list.pk])
        )

    def render_rename(self, request, mailing_list, form, *, plan: RenamePlan | None = None):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Rename %(list)s") % {"list": mailing_list.name},
            "opts": self.opts,
            "original": mailing_list,
            "form": form,
            "plan": plan,
            "report": plan.describe() if plan is not None else None,
            "digest": plan_digest(plan) if plan is not None else "",
            "core_configured": crans_admin_settings().core_var_dir is not None,
        }
        return TemplateResponse(request, "admin/crans_admin/rename_list.html", context)
