"""Archiving a post is one transaction: the tasks it queues run after it, never before.

hyperkitty's archiver API (``add_to_list``) queues ``update_from_mailman``
(the list's names, description, subject prefix and archive policy from core),
then saves its own copy of the list, read before the task ran. Were the task
to run first, that save would write the list's old values back: a private
list archived as public, its names and prefix empty. In one transaction, the
queued tasks (django-q's ORM broker, in the same database) reach the task
queue only once the post is archived, and any task runs after the save.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

ARCHIVER_URL_NAME = "hk_mailman_archive"


class AtomicArchivingMiddleware:
    """Run hyperkitty's archiver API in a transaction, rolled back on a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._path: str | None = None

    def archiver_path(self) -> str:
        if self._path is None:
            try:
                self._path = reverse(ARCHIVER_URL_NAME)
            except NoReverseMatch:  # a site without hyperkitty
                self._path = ""
        return self._path

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path != self.archiver_path():
            return self.get_response(request)
        with transaction.atomic():
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            return response
