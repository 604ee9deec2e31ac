"""Tasks that django-q 1.2 (Debian 11) left in the ORM queue, which no newer django-q runs.

django-q signs each queued payload (``SignedPackage``: pickled, signed with
``SECRET_KEY`` and the cluster's ``name`` as salt, through its own
``core_signing.TimestampSigner``). On Django 2.2 that signature was an
HMAC-SHA1; on Django 4.2 it is HMAC-SHA256, and django-q's signer (1.7.4 as
django-q2) accepts no other. The cluster's pusher then logs "Failed to push
task to queue" with a ``BadSignature`` and deletes the task: none of them
runs. They are hyperkitty's cache refreshes, done again by its jobs; the
upgrade deletes them at once, without a traceback per task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OldTask:
    id: int
    key: str
    lock: datetime | None
    signed_with: str  # "sha1": by Django < 3.1's signer; "unknown": no key of this site


def payload_signer(payload: str) -> str | None:
    """Which signature ``payload`` carries: None if this django-q reads it, "sha1", "unknown"."""
    from django_q.conf import Conf
    from django_q.core_signing import BadSignature, TimestampSigner
    from django_q.signing import SignedPackage

    try:
        SignedPackage.loads(payload)
        return None
    except Exception:  # BadSignature, or a pickle of modules gone
        pass
    try:
        TimestampSigner(key=Conf.SECRET_KEY, salt=Conf.PREFIX, algorithm="sha1").unsign(payload)
        return "sha1"
    except (BadSignature, ValueError):
        return "unknown"


def old_tasks() -> list[OldTask]:
    """The queued tasks this django-q cannot read, oldest first; [] without the ORM broker."""
    from django_q.conf import Conf
    from django_q.models import OrmQ

    if not Conf.ORM:
        return []
    found = []
    for row in OrmQ.objects.using(Conf.ORM).order_by("lock", "id"):
        signer = payload_signer(row.payload)
        if signer is not None:
            found.append(OldTask(row.id, row.key, row.lock, signer))
    return found


def delete_tasks(tasks: list[OldTask]) -> int:
    from django_q.conf import Conf
    from django_q.models import OrmQ

    if not tasks:
        return 0
    deleted, _ = OrmQ.objects.using(Conf.ORM).filter(id__in=[t.id for t in tasks]).delete()
    return deleted
