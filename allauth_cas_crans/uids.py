"""CAS uids as the provider stores them, and the rows an older provider stored otherwise.

The provider's uid is the CAS user stripped and lower-cased
(:func:`normalise_uid`). django-allauth-cas 1.0.0 stored the CAS user exactly
as the CAS returned it (``Bob``) and ``extra_data=dict(attributes, uid=uid)``;
such a row is *un-normalised*. A member's first login joins the one row whose
uid normalises to theirs (``join_old_account``); two such rows are never
picked between: the login stops and ``mailman-web crans_upgrade`` names both.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.base import AuthError
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .client import CasError
from .conf import PROVIDER_ID

logger = logging.getLogger(__name__)

# Every uid the provider stores is made of these characters only; a row holding
# any other (capitals, spaces, non-ASCII letters) may be un-normalised.
PLAIN_UID = r"^[a-z0-9._@+-]*$"


class DuplicateAccounts(CasError):
    message = _(
        "Several accounts of this site were made for your Crans account by an earlier "
        "version of the site, and none is picked for you. Please ask the administrators "
        "to choose the one to keep (mailman-web crans_upgrade names them)."
    )
    code = AuthError.DENIED


def normalise_uid(user: str) -> str:
    """The uid the provider stores for the CAS user ``user``: stripped, lower-cased."""
    return user.strip().lower()


def cas_attributes(extra_data: Any) -> dict[str, Any]:
    """The CAS attributes of a stored ``extra_data``, whichever provider stored it.

    The provider stores the attributes; django-allauth-cas stored them with
    ``uid`` (the CAS user) added, which the provider reads as the username
    attribute, as Crans' CAS releases it. Anything but a mapping holds none.
    """
    return dict(extra_data) if isinstance(extra_data, Mapping) else {}


def crans_accounts(using: str = DEFAULT_DB_ALIAS) -> QuerySet:
    return SocialAccount.objects.using(using).filter(provider=PROVIDER_ID)


def unnormalised_accounts(using: str = DEFAULT_DB_ALIAS) -> list[SocialAccount]:
    """The crans rows whose uid is not what the provider stores, by uid."""
    candidates = crans_accounts(using).exclude(uid__regex=PLAIN_UID).select_related("user")
    return sorted(
        (account for account in candidates if normalise_uid(account.uid) != account.uid),
        key=lambda account: (account.uid, account.pk),
    )


def twins(uid: str, using: str = DEFAULT_DB_ALIAS) -> list[SocialAccount]:
    """The crans rows whose uid normalises to ``uid`` (its own row included), by id."""
    candidates = (
        crans_accounts(using).filter(Q(uid=uid) | ~Q(uid__regex=PLAIN_UID)).select_related("user")
    )
    return sorted(
        (account for account in candidates if normalise_uid(account.uid) == uid),
        key=lambda account: account.pk,
    )


def groups_to_normalise(using: str = DEFAULT_DB_ALIAS) -> dict[str, list[SocialAccount]]:
    """Each normalised uid that un-normalised rows stand for, with all its rows, by id."""
    wanted = {normalise_uid(account.uid) for account in unnormalised_accounts(using)}
    groups: dict[str, list[SocialAccount]] = defaultdict(list)
    candidates = crans_accounts(using).filter(Q(uid__in=wanted) | ~Q(uid__regex=PLAIN_UID))
    for account in candidates.select_related("user").order_by("pk"):
        if (uid := normalise_uid(account.uid)) in wanted:
            groups[uid].append(account)
    return dict(sorted(groups.items()))


def join_old_account(uid: str) -> None:
    """Give the one old row of the (normalised) ``uid`` that uid, so the login finds it.

    Nothing to do when ``uid`` has its row and no other; raises
    ``DuplicateAccounts`` when several rows normalise to ``uid``. Runs under
    the member's login lock.
    """
    rows = twins(uid)
    if len(rows) > 1:
        raise DuplicateAccounts(
            f"CAS uid {uid!r}: {len(rows)} accounts normalise to it "
            f"({', '.join(f'{row.uid!r} of user {row.user_id}' for row in rows)}); "
            "none picked, run mailman-web crans_upgrade"
        )
    if rows and rows[0].uid != uid:
        old = rows[0].uid
        rows[0].uid = uid
        rows[0].save(update_fields=["uid"])
        logger.info(
            "CAS uid %r: the old account row %r (user %s) joined and normalised.",
            uid,
            old,
            rows[0].user_id,
        )
