"""Single logout: the sessions a CAS service ticket reached, whatever became of their keys.

A CAS login leaves its ticket in the data of the session it happens in
(``SESSION_KEY``: ticket -> uid of the CAS account), and ``ServiceTicket``
records (ticket, session key). Django changes a session's key by saving the
same data under a new key (``cycle_key``: at login, when a password is set or
changed, on any page that calls ``update_session_auth_hash``...): every new
session row whose data carries tickets is recorded under its new key too
(``follow``, on the session model's ``post_save``), so the records follow
the session, not its key. A single-logout request naming a ticket ends every
session recorded for it (``ServiceTicket.objects.end_sessions``).

The ticket is left in the session whether the login completes at once or
later in that session (allauth's signup form, the confirmation of an e-mail
address): the session carries it until then, and is ended if the CAS session
ends first. A session keeps a ticket only while it is anonymous or logged in
as the member whose CAS account the ticket is for: any other login in that
session drops it (``keep_own``), so a ticket ends its own member's sessions
only.

A single-logout request marks its tickets ended before it ends their
sessions: a request of such a session that gives it a new key meanwhile, or
a CAS login with such a ticket that completes meanwhile, finds the mark and
ends too (``follow``, ``record_login``).

Only session engines that store their sessions in a model (Django's ``db``
and ``cached_db``) let the records follow a new key (``check_session_engine``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any, Final

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .conf import PROVIDER_ID

if TYPE_CHECKING:
    from django.contrib.sessions.base_session import AbstractBaseSession

logger = logging.getLogger(__name__)

# Where a session keeps its tickets: {ticket: uid of the CAS account, or None
# for a ticket recorded before tickets were kept in sessions}.
SESSION_KEY: Final = "allauth_cas_crans_tickets"
# Tickets one session keeps at most (one per CAS login in that session), the newest.
MAX_TICKETS: Final = 20
# Seconds between two purges of the records of sessions that are over, in one
# process (a purge reads every live session: ~90 ms with 200 000 of them).
PURGE_INTERVAL: Final = 600
_last_purge: float | None = None
LOGIN_ENDED = _(
    "Your Crans CAS session ended while you were signing in: you are signed out. Please "
    "sign in again."
)


def session_store() -> type[SessionBase]:
    """The ``SessionStore`` of ``SESSION_ENGINE``."""
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_model() -> type[AbstractBaseSession] | None:
    """The model ``SESSION_ENGINE`` keeps its sessions in; None for an engine without one."""
    get_model_class = getattr(session_store(), "get_model_class", None)
    if get_model_class is None:
        return None
    try:
        return get_model_class()
    except RuntimeError:  # its app (django.contrib.sessions) is not installed
        return None


def carried(session: Mapping[str, Any]) -> dict[str, str | None]:
    """The tickets that ``session`` (a session or its decoded data) carries, oldest first."""
    tickets = session.get(SESSION_KEY)
    if not isinstance(tickets, dict):
        return {}
    return {
        ticket: uid
        for ticket, uid in tickets.items()
        if isinstance(ticket, str) and (uid is None or isinstance(uid, str))
    }


def record_login(request: HttpRequest, ticket: str, account: SocialAccount) -> None:
    """Leave ``ticket`` in the session of the CAS login it opened, unless that is another's.

    Called once allauth has dealt with the login: the member is logged in
    now, or will be later in this session (still anonymous), or the session
    belongs to someone else (a connection refused: the CAS account is
    another member's), which keeps no ticket.
    """
    from .models import ServiceTicket

    if ServiceTicket.objects.ended([ticket]):
        # The CAS session ended while the ticket was being validated.
        logger.info("CAS login of %r ended by single logout as it completed.", account.uid)
        # Logged in or not: the session goes, with a pending login (signup form...).
        get_account_adapter(request).logout(request)
        messages.warning(request, LOGIN_ENDED)
        return
    user = request.user
    if user.is_authenticated and (account.pk is None or account.user_id != user.pk):
        logger.info(
            "CAS login of %r in a session of %s: its ticket is not kept there.", account.uid, user
        )
        return
    carry(request, ticket, account.uid)


def carry(request: HttpRequest, ticket: str, uid: str | None) -> None:
    """Leave ``ticket`` (of the CAS account ``uid``) in the request's session and record it."""
    from .models import ServiceTicket

    if len(ticket) > ServiceTicket._meta.get_field("ticket").max_length:
        # The CAS protocol asks for 256 characters at most.
        logger.warning("Ticket %s... longer than 256 characters: no single logout.", ticket[:8])
        return
    tickets = carried(request.session)
    tickets.pop(ticket, None)
    tickets[ticket] = uid
    request.session[SESSION_KEY] = dict(list(tickets.items())[-MAX_TICKETS:])
    purge_now()
    # A session without a key yet gets one when it is saved: ``follow`` records it then.
    if request.session.session_key:
        ServiceTicket.objects.index([ticket], request.session.session_key)


def purge_now() -> None:
    """Purge the records of sessions that are over, unless done less than ``PURGE_INTERVAL`` ago."""
    from .models import ServiceTicket

    global _last_purge
    if _last_purge is not None and time.monotonic() - _last_purge < PURGE_INTERVAL:
        return
    _last_purge = time.monotonic()
    ServiceTicket.objects.purge()


def drop(request: HttpRequest, tickets: Iterable[str]) -> None:
    """Take ``tickets`` out of the request's session and out of its records."""
    from .models import ServiceTicket

    tickets = set(tickets)
    kept = {
        ticket: uid for ticket, uid in carried(request.session).items() if ticket not in tickets
    }
    if kept:
        request.session[SESSION_KEY] = kept
    else:
        request.session.pop(SESSION_KEY, None)
    if request.session.session_key:
        ServiceTicket.objects.filter(
            ticket__in=tickets, session_key=request.session.session_key
        ).delete()


def keep_own(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Drop the tickets of CAS accounts that are not ``user``'s, who just logged in."""
    tickets = carried(request.session)
    uids = {uid for uid in tickets.values() if uid is not None}
    if not uids:
        return
    own = set(
        SocialAccount.objects.filter(provider=PROVIDER_ID, user=user, uid__in=uids).values_list(
            "uid", flat=True
        )
    )
    foreign = [ticket for ticket, uid in tickets.items() if uid is not None and uid not in own]
    if foreign:
        logger.info(
            "%s logged in: %d ticket(s) of another CAS account left this session.",
            user,
            len(foreign),
        )
        drop(request, foreign)


def follow(session: AbstractBaseSession) -> None:
    """Record a new session row under the tickets its data carries.

    A session whose key changes is saved as a new row with the same data:
    this is how the records follow it. A new row that carries a ticket marked
    ended is deleted at once.
    """
    from .models import ServiceTicket

    tickets = carried(session.get_decoded())
    if not tickets:
        return
    if ServiceTicket.objects.ended(tickets):
        # A request that read the session before a single-logout request
        # ended it now gives it a new key: that one goes too. The request's
        # own save of the session then fails (Django's SessionInterrupted, a
        # 400): its browser never gets the new key.
        logger.info("A session ended by single logout got a new key meanwhile: ended too.")
        session.delete()
        return
    ServiceTicket.objects.index(tickets, session.session_key)


def forget(request: HttpRequest) -> None:
    """Forget the records of the request's session (it logs out: its data goes)."""
    from .models import ServiceTicket

    if request.session.session_key:
        ServiceTicket.objects.filter(session_key=request.session.session_key).delete()


def end(session_key: str) -> bool:
    """Delete the session ``session_key``; whether there was one."""
    store = session_store()
    if not store().exists(session_key):
        return False
    store(session_key=session_key).delete()
    return True
