"""Receivers connected in ``AllauthCasCransConfig.ready()``."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialLogin
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from . import single_logout
from .conf import PROVIDER_ID

logger = logging.getLogger(__name__)


def update_member(request: HttpRequest, sociallogin: SocialLogin, **kwargs: Any) -> None:
    """Take the names and e-mail of a member's existing account from the CAS.

    Receiver of ``social_account_updated`` (a later login) and
    ``social_account_added`` (the CAS account connected to a local one: after
    allauth has wiped the password of an unverified match). Names the CAS
    does not release are kept; only an e-mail that comes from the CAS
    (verified) becomes the primary one.
    """
    if sociallogin.account.provider != PROVIDER_ID:
        return
    user = sociallogin.user
    # SocialLogin.provider is newer than django-allauth 65.0.2 (Debian 13's).
    names = sociallogin.account.get_provider(request).names(sociallogin.account.extra_data)
    changed = [
        field
        for field in ("first_name", "last_name")
        if names.get(field) and getattr(user, field) != names[field]
    ]
    for field in changed:
        setattr(user, field, names[field])
    if changed:
        user.save(update_fields=changed)
    for address in sociallogin.email_addresses:
        if address.verified:
            make_primary(request, user, address.email)
            break


def make_primary(request: HttpRequest, user: AbstractBaseUser, email: str) -> None:
    """Make ``email`` the verified primary address of ``user``, unless another user has it."""
    if EmailAddress.objects.filter(email__iexact=email, verified=True).exclude(user=user).exists():
        logger.warning(
            "The CAS gives %s the e-mail %s, verified by another account: not changed.",
            user,
            email,
        )
        return
    address = EmailAddress.objects.add_email(request, user, email)
    if not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    if not address.primary:
        address.set_as_primary()


def forget_session(request: HttpRequest | None, **kwargs: Any) -> None:
    """Forget the service tickets of a session that logs out (``user_logged_out``)."""
    if request is not None and hasattr(request, "session"):
        single_logout.forget(request)


def keep_own_tickets(request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    """A login keeps in its session the tickets of its own CAS account only (``user_logged_in``)."""
    if request is not None and hasattr(request, "session"):
        single_logout.keep_own(request, user)


def follow_session(instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """Record a new session row under the tickets it carries (``post_save`` of the session model).

    Connected for the model of ``SESSION_ENGINE`` only; a row saved again
    under its own key (``created`` false) changes no record.
    """
    if created and not raw:
        single_logout.follow(instance)
