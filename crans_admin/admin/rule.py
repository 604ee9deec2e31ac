"""The admin-wide rule: what the policies of :mod:`.policy` mean, on every admin page.

``CransAdminSite.register`` calls :func:`enforce` on each ModelAdmin instance
it registers, whichever app registers it and however its class is written:
the instance's own methods are wrapped, so that no subclass or option
overrides them. For anyone who is not an active superuser:

- a superuser-only model: every permission is refused (the index hides it),
  and every URL of its admin, custom ones included, answers 403;
- an owned model: a row of a staff or superuser account can be viewed, not
  changed nor deleted (the change page is read-only); a form that would give
  a row to such an account is refused with an error; an action on a
  selection holding such a row does nothing, and an action that leaves one
  there is rolled back;
- every model: the fields a policy reserves to superusers are read-only;
  inlines follow their own model's policy.

Behind the pages, while a view of a registered admin runs for a user who is
not superuser, a write guard refuses (``PermissionDenied``: 403, the view's
transaction rolled back) any save or deletion of a row of an owned model
whose account is privileged before or after, and any change to groups and
permissions, however the admin's code reached it (custom views, inlines,
list editing, actions, signals). The rule is checked at use, whatever
permissions the user was given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.db.models import Model
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .policy import (
    Policy,
    has_privileged_owner,
    owned_policy,
    owner_is_privileged,
    policy_for,
    privileged_owner,
    stored_owner_is_privileged,
)

# The user a registered admin's view runs for, when not superuser (else None).
_acting_user: ContextVar[Any] = ContextVar("crans_admin_acting_user", default=None)
# Set while delegable content is deleted (its votes, favourites... go with it).
_deleting_content: ContextVar[bool] = ContextVar("crans_admin_deleting_content", default=False)


def is_superuser(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_superuser)


def _is_staff_member(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


@contextmanager
def _set(var: ContextVar, value: object) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def refusal(owner: object) -> str:
    return _(
        "This belongs to a staff or superuser account (%(owner)s): only a superuser can change it."
    ) % {"owner": owner}


# The ModelAdmin side.


def enforce(model_admin: admin.ModelAdmin) -> None:
    """Wrap ``model_admin``'s methods so that its model's policy holds on each of its pages."""
    policy = policy_for(model_admin.model)
    for name, wrapper in _wrappers(policy).items():
        original = getattr(model_admin, name)
        setattr(model_admin, name, functools.update_wrapper(wrapper(original), original))
    model_admin.crans_policy = policy


def _wrappers(policy: Policy) -> dict[str, Callable[[Callable], Callable]]:
    wrappers: dict[str, Callable[[Callable], Callable]] = {
        "get_urls": lambda original: _guard_urls(original, policy),
        "get_inlines": _guard_inlines,
        "get_readonly_fields": lambda original: _readonly(original, policy),
    }
    if policy.superuser_only:
        for name in (
            "has_module_permission",
            "has_view_permission",
            "has_add_permission",
            "has_change_permission",
            "has_delete_permission",
        ):
            wrappers[name] = _superuser_only
        wrappers["get_actions"] = _superuser_only_actions
    elif policy.owned:
        wrappers["has_change_permission"] = lambda original: _unless_privileged(original, policy)
        wrappers["has_delete_permission"] = lambda original: _unless_privileged(original, policy)
        wrappers["get_form"] = lambda original: _owner_checking_form(original, policy)
        wrappers["get_actions"] = lambda original: _guard_actions(original, policy)
    else:
        for name in ("get_deleted_objects", "delete_model", "delete_queryset"):
            wrappers[name] = _deleting_delegable_content
    return wrappers


def _superuser_only(original: Callable) -> Callable:
    def permission(request, *args, **kwargs):
        return is_superuser(request) and original(request, *args, **kwargs)

    return permission


def _superuser_only_actions(original: Callable) -> Callable:
    def get_actions(request):
        return original(request) if is_superuser(request) else {}

    return get_actions


def _unless_privileged(original: Callable, policy: Policy) -> Callable:
    """A change or delete permission refused on a privileged account's row."""

    def permission(request, obj=None):
        if obj is not None and not is_superuser(request):
            deleted_with_content = policy.removed_with_content and _deleting_content.get()
            if not deleted_with_content and owner_is_privileged(obj, policy) is not None:
                return False
        return original(request, obj)

    return permission


def _readonly(original: Callable, policy: Policy) -> Callable:
    def get_readonly_fields(request, obj=None):
        readonly = tuple(original(request, obj))
        if is_superuser(request) or not policy.superuser_fields:
            return readonly
        return (*readonly, *(name for name in policy.superuser_fields if name not in readonly))

    return get_readonly_fields


def _owner_checking_form(original: Callable, policy: Policy) -> Callable:
    """The admin's form, refusing (form error) to give the row to a privileged account."""

    def get_form(request, obj=None, *args, **kwargs):
        form_class = original(request, obj, *args, **kwargs)
        if is_superuser(request):
            return form_class

        class OwnerCheckingForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                owner = owner_is_privileged(self.instance, policy, cleaned_data)
                if owner is not None:
                    raise forms.ValidationError(refusal(owner), code="privileged_owner")
                return cleaned_data

        OwnerCheckingForm.__name__ = form_class.__name__
        return OwnerCheckingForm

    return get_form


def _guard_actions(original: Callable, policy: Policy) -> Callable:
    def get_actions(request):
        actions = original(request)
        if is_superuser(request):
            return actions
        return {
            name: (_guarded_action(func, policy), name, description)
            for name, (func, _name, description) in actions.items()
        }

    return get_actions


def _guarded_action(func: Callable, policy: Policy) -> Callable:
    """``func`` on a selection without privileged accounts' rows, and leaving none there."""

    @functools.wraps(func)
    def action(model_admin, request, queryset):
        count = queryset.filter(privileged_owner(policy)).count()
        if count:
            model_admin.message_user(
                request,
                ngettext(
                    "Nothing was done: %(count)d selected row belongs to a staff or superuser "
                    "account, which only a superuser can change.",
                    "Nothing was done: %(count)d selected rows belong to staff or superuser "
                    "accounts, which only a superuser can change.",
                    count,
                )
                % {"count": count},
                messages.ERROR,
            )
            return None
        selected = list(queryset.values_list("pk", flat=True))
        with transaction.atomic(using=queryset.db):
            response = func(model_admin, request, queryset)
            after = queryset.model._default_manager.using(queryset.db).filter(pk__in=selected)
            if has_privileged_owner(after, policy):
                raise PermissionDenied(
                    _("The action would give rows to a staff or superuser account.")
                )
        return response

    return action


def _deleting_delegable_content(original: Callable) -> Callable:
    def method(*args, **kwargs):
        with _set(_deleting_content, True):
            return original(*args, **kwargs)

    return method


def _guard_urls(original: Callable, policy: Policy) -> Callable:
    """Every URL of the admin, custom ones included: superuser-only, or under the write guard."""

    def get_urls():
        patterns = original()
        _wrap_patterns(patterns, policy)
        return patterns

    return get_urls


def _wrap_patterns(patterns: list, policy: Policy) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _wrap_patterns(pattern.url_patterns, policy)
        elif isinstance(pattern, URLPattern) and not getattr(pattern.callback, "crans_rule", None):
            pattern.callback = _guarded_view(pattern.callback, policy)


def _guarded_view(view: Callable, policy: Policy) -> Callable:
    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if is_superuser(request) or not _is_staff_member(request):
            return view(request, *args, **kwargs)  # the admin asks others to log in
        if policy.superuser_only:
            raise PermissionDenied
        with _set(_acting_user, request.user):
            return view(request, *args, **kwargs)

    guarded.crans_rule = policy
    return guarded


_guarded_inlines: dict[type, type] = {}


def _guard_inlines(original: Callable) -> Callable:
    def get_inlines(request, obj):
        return [_guarded_inline(inline) for inline in original(request, obj)]

    return get_inlines


def _guarded_inline(inline_class: type) -> type:
    """``inline_class`` with its own model's policy on its permissions and fields."""
    if getattr(inline_class, "crans_rule_inline", False):
        return inline_class
    if inline_class not in _guarded_inlines:
        policy = policy_for(inline_class.model)

        class GuardedInline(inline_class):
            crans_rule_inline = True

            def has_view_permission(self, request, obj=None):
                return _inline_allows(request, policy) and super().has_view_permission(request, obj)

            def has_add_permission(self, request, obj):
                return _inline_allows(request, policy) and super().has_add_permission(request, obj)

            def has_change_permission(self, request, obj=None):
                allowed = _inline_allows(request, policy)
                return allowed and super().has_change_permission(request, obj)

            def has_delete_permission(self, request, obj=None):
                allowed = _inline_allows(request, policy)
                return allowed and super().has_delete_permission(request, obj)

            def get_readonly_fields(self, request, obj=None):
                readonly = tuple(super().get_readonly_fields(request, obj))
                if is_superuser(request):
                    return readonly
                return (*readonly, *(f for f in policy.superuser_fields if f not in readonly))

        GuardedInline.__name__ = inline_class.__name__
        GuardedInline.__qualname__ = inline_class.__qualname__
        _guarded_inlines[inline_class] = GuardedInline
    return _guarded_inlines[inline_class]


def _inline_allows(request, policy: Policy) -> bool:
    return is_superuser(request) or not policy.superuser_only


# The write guard: signal receivers, active only while a registered admin's view runs for
# a user who is not superuser.


def _permission_relations() -> set[type[Model]]:
    """The tables that give users groups and permissions."""
    relations = {Group.permissions.through}
    for field in get_user_model()._meta.many_to_many:
        if field.name in ("groups", "user_permissions"):
            relations.add(field.remote_field.through)
    return relations


def refuse_privileged_saves(sender, instance, raw=False, using=None, **kwargs) -> None:
    """``pre_save``: no row of a privileged account saved, nor given to one; no field that a
    policy reserves to superusers changed."""
    if raw or _acting_user.get() is None:
        return
    using = using or router.db_for_write(sender, instance=instance)
    changed = _superuser_fields_changed(sender, instance, using)
    if changed:
        raise PermissionDenied(
            _("Only a superuser can change %(fields)s.") % {"fields": ", ".join(changed)}
        )
    policy = owned_policy(sender)
    if policy is None:
        return
    owner = stored_owner_is_privileged(instance, policy, using) or owner_is_privileged(
        instance, policy
    )
    if owner is not None:
        raise PermissionDenied(refusal(owner))


def _superuser_fields_changed(sender, instance: Model, using: str) -> list[str]:
    """The concrete fields reserved to superusers whose value ``instance`` changes."""
    names = (
        policy_for(sender).superuser_fields
        or policy_for(sender._meta.concrete_model).superuser_fields
    )
    fields = [field for field in sender._meta.concrete_fields if field.name in names]
    if not fields or instance.pk is None:
        return []
    stored = (
        sender._default_manager.using(using)
        .filter(pk=instance.pk)
        .values(*(field.attname for field in fields))
        .first()
    )
    if stored is None:
        return []
    return [
        field.name for field in fields if stored[field.attname] != getattr(instance, field.attname)
    ]


def refuse_privileged_deletions(sender, instance, using=None, **kwargs) -> None:
    """``pre_delete``: no row of a privileged account deleted (but with deleted content)."""
    if _acting_user.get() is None:
        return
    policy = owned_policy(sender)
    if policy is None or (policy.removed_with_content and _deleting_content.get()):
        return
    owner = owner_is_privileged(instance, policy)
    if owner is not None:
        raise PermissionDenied(refusal(owner))


def refuse_permission_changes(sender, instance, action, model, pk_set, using=None, **kwargs):
    """``m2m_changed``: no group or permission granted or taken; no privileged row touched."""
    if _acting_user.get() is None or not action.startswith("pre_"):
        return
    if sender in _permission_relations():
        raise PermissionDenied(_("Only a superuser can change groups and permissions."))
    policy = owned_policy(type(instance))
    if policy is not None:
        owner = owner_is_privileged(instance, policy)
        if owner is not None:
            raise PermissionDenied(refusal(owner))
    policy = owned_policy(model)
    if policy is not None and pk_set:
        rows = model._default_manager.using(using).filter(pk__in=pk_set)
        if has_privileged_owner(rows, policy):
            raise PermissionDenied(refusal(model._meta.verbose_name))
