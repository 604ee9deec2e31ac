"""Service tickets of open sessions (single logout) and per-member login locks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import models
from django.utils import timezone


class ServiceTicketQuerySet(models.QuerySet):
    def remember(self, ticket: str, session: SessionBase) -> None:
        """Record that ``ticket`` opened ``session``; forget expired records."""
        self.filter(
            created__lt=timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
        ).delete()
        self.update_or_create(ticket=ticket, defaults={"session_key": session.session_key})

    def end_sessions(self, tickets: Iterable[str]) -> int:
        """End the sessions opened with ``tickets``; return how many were known."""
        store = import_module(settings.SESSION_ENGINE).SessionStore
        records = list(self.filter(ticket__in=list(tickets)))
        for record in records:
            store(session_key=record.session_key).delete()
        self.filter(pk__in=[record.pk for record in records]).delete()
        return len(records)


class ServiceTicket(models.Model):
    """A CAS service ticket and the Django session it opened."""

    ticket = models.CharField(max_length=256, unique=True)
    session_key = models.CharField(max_length=40, db_index=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ServiceTicketQuerySet.as_manager()

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
