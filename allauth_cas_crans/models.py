"""Service tickets of open sessions (single logout) and per-member login locks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import models, router
from django.utils import timezone

from . import single_logout

# The session key of a mark: a single-logout request named this ticket.
ENDED = ""
# Seconds a mark is kept: longer than any request that was running when it came.
ENDED_KEPT = 3600
# Tickets one single-logout request marks at most (the CAS server names one).
MAX_MARKS = 20


class ServiceTicketQuerySet(models.QuerySet):
    def records(self) -> ServiceTicketQuerySet:
        """The (ticket, session) rows, without the marks of ended tickets."""
        return self.exclude(session_key=ENDED)

    def marks(self) -> ServiceTicketQuerySet:
        """The marks of tickets that single-logout requests named."""
        return self.filter(session_key=ENDED)

    def index(self, tickets: Iterable[str], session_key: str) -> None:
        """Record that the session ``session_key`` carries ``tickets``.

        Never raises on a pair already recorded: it runs inside the session's
        own save (``single_logout.follow``), whose integrity errors Django takes
        for a key collision.
        """
        self.bulk_create(
            [ServiceTicket(ticket=ticket, session_key=session_key) for ticket in tickets],
            ignore_conflicts=True,
        )

    def purge(self) -> int:
        """Forget the records of sessions that are over and old marks; return how many went."""
        model = single_logout.session_model()
        now = timezone.now()
        deleted, _ = self.marks().filter(created__lt=now - timedelta(seconds=ENDED_KEPT)).delete()
        records = self.records()
        if model is not None and router.db_for_read(model) == router.db_for_write(ServiceTicket):
            # NOT EXISTS: an anti-join on the sessions' primary key, however many there are.
            live = model._default_manager.filter(
                session_key=models.OuterRef("session_key"), expire_date__gt=now
            )
            gone, _ = records.filter(~models.Exists(live)).delete()
        else:
            # Sessions that the engine cannot list: those of SESSION_COOKIE_AGE ago.
            age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
            gone, _ = records.filter(created__lt=now - age).delete()
        return deleted + gone

    def ended(self, tickets: Iterable[str]) -> bool:
        """Whether a single-logout request named one of ``tickets`` lately (``ENDED_KEPT``)."""
        return self.marks().filter(ticket__in=list(tickets)).exists()

    def end_sessions(self, tickets: Iterable[str]) -> int:
        """End every session that carries one of ``tickets``; return how many there were.

        The tickets are marked ended first (``MAX_MARKS`` of them): a session
        that gets a new key, or a CAS login that completes, while this runs
        finds the mark and ends too.
        """
        tickets = list(dict.fromkeys(tickets))
        length = ServiceTicket._meta.get_field("ticket").max_length
        self.index([ticket for ticket in tickets if len(ticket) <= length][:MAX_MARKS], ENDED)
        records = self.records()
        keys = set(records.filter(ticket__in=tickets).values_list("session_key", flat=True))
        ended = sum(single_logout.end(key) for key in sorted(keys))
        records.filter(models.Q(ticket__in=tickets) | models.Q(session_key__in=keys)).delete()
        return ended


class ServiceTicket(models.Model):
    """A CAS service ticket and a Django session that carries it.

    One row per (ticket, session): a session whose key changes is recorded
    again under its new key (``single_logout.follow``), and two workers that
    change the key of one session at once leave two sessions that carry the
    ticket. A row with the session key ``ENDED`` marks a ticket that a
    single-logout request named (for ``ENDED_KEPT`` seconds).
    """

    ticket = models.CharField(max_length=256)
    session_key = models.CharField(max_length=40, db_index=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ServiceTicketQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "session_key"], name="allauth_cas_crans_ticket_session"
            )
        ]

    def __str__(self) -> str:
        return self.ticket


class LoginLock(models.Model):
    """One row per CAS uid, locked while that member logs in.

    Two first logins of one member at the same moment (two tabs) would
    otherwise both find no account and both try to create it.
    """

    uid = models.CharField(max_length=191, unique=True)

    def __str__(self) -> str:
        return self.uid

    @classmethod
    def acquire(cls, uid: str) -> None:
        """Lock ``uid`` until the end of the current transaction."""
        cls.objects.select_for_update().get_or_create(uid=uid)
