"""Which account a member's first CAS login goes to, and which addresses a new account takes.

A first login (no account is connected to the CAS uid yet) is connected to
an existing account only through an address that the CAS vouches for
(``VERIFIED_EMAIL``) *and* that the account verified itself. An account with
staff or superuser status, a deactivated one, or one already connected to
another CAS account is never connected this way: the login stops on the
provider's error page (its owner connects the CAS account while logged in,
from the account connections page). Otherwise a new account is made, without
any address that another account holds (verified or not): nobody captures
anybody's account, and no address ends up verified on two accounts.
"""

from __future__ import annotations

import logging

from allauth.account.models import EmailAddress
from allauth.account.utils import user_email
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base import AuthError
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _

from .client import CasError
from .conf import PROVIDER_ID

logger = logging.getLogger(__name__)


class AccountNotConnectable(CasError):
    message = _(
        "Your Crans address belongs to an existing account that is not connected "
        "automatically (an administrator's, a deactivated one, or one connected to another "
        "Crans account). If it is yours, log in to it with its password and connect your "
        "Crans account on its account connections page; otherwise contact the administrators."
    )
    code = AuthError.DENIED


def prepare_first_login(sociallogin: SocialLogin) -> None:
    """Connect a first CAS login to its member's account, or clear the new account's addresses.

    Nothing to do when the CAS uid already has its account. Raises
    ``AccountNotConnectable``.
    """
    uid = sociallogin.account.uid
    if SocialAccount.objects.filter(provider=PROVIDER_ID, uid=uid).exists():
        return
    if sociallogin.account.get_provider().get_settings()["CONNECT_BY_EMAIL"]:
        owner = verified_owner(sociallogin)
        if owner is not None:
            SocialAccount.objects.create(
                user=owner,
                provider=PROVIDER_ID,
                uid=uid,
                extra_data=sociallogin.account.extra_data,
            )
            logger.info("CAS uid %r connected to the account %r (verified address).", uid, owner)
            return
    keep_free_addresses(sociallogin)


def verified_owner(sociallogin: SocialLogin) -> AbstractUser | None:
    """The account that verified an address the CAS vouches for, if it may be connected."""
    for address in sociallogin.email_addresses:
        if not address.verified:
            continue
        owners = {
            held.user
            for held in EmailAddress.objects.filter(
                email__iexact=address.email, verified=True
            ).select_related("user")
        }
        if not owners:
            continue
        if len(owners) > 1 or not all(map(connectable, owners)):
            raise AccountNotConnectable(
                f"CAS uid {sociallogin.account.uid!r}: {address.email} is verified by "
                f"{', '.join(sorted(map(repr, map(str, owners))))}, not connected automatically"
            )
        return owners.pop()
    return None


def connectable(user: AbstractUser) -> bool:
    """Whether a first CAS login may be connected to ``user`` through a verified address."""
    return (
        user.is_active
        and not user.is_staff
        and not user.is_superuser
        and not SocialAccount.objects.filter(user=user, provider=PROVIDER_ID).exists()
    )


def keep_free_addresses(sociallogin: SocialLogin) -> None:
    """Leave out of the new account every address another account holds, verified or not.

    When the CAS address is left out, ``<uid>@EMAIL_DOMAIN`` replaces it if
    it is free; with no address left, allauth asks the member for one.
    """
    provider = sociallogin.account.get_provider()  # SocialLogin.provider: newer than 65.0.2
    kept = [address for address in sociallogin.email_addresses if not is_held(address.email)]
    for address in sociallogin.email_addresses:
        if address not in kept:
            logger.warning(
                "First CAS login of %r: %s is held by another account, not given to the new one.",
                sociallogin.account.uid,
                address.email,
            )
    domain = provider.get_settings()["EMAIL_DOMAIN"]
    if not kept and sociallogin.email_addresses and domain:
        derived = f"{sociallogin.account.uid}@{domain}"
        if not is_held(derived):
            verified = provider.is_trusted(derived)
            kept = [EmailAddress(email=derived, verified=verified, primary=True)]
    sociallogin.email_addresses = kept
    user_email(sociallogin.user, kept[0].email if kept else "")


def is_held(email: str) -> bool:
    """Whether an account holds ``email``, as an allauth address (verified or not) or its own."""
    return (
        EmailAddress.objects.filter(email__iexact=email).exists()
        or get_user_model()._default_manager.filter(email__iexact=email).exists()
    )
