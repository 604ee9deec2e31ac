"""Check of the task queue: a django-q cluster takes the tasks mailman-web queues."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .network import network_timeout
from .registry import Finding, check, error, ok

# Tasks of the ORM broker waiting longer than this: no cluster takes them.
QUEUE_STALL = timedelta(minutes=2)


def probe() -> str:
    """The task the task queue check hands to the queue: it does nothing."""
    return "crans_doctor"


@check("tasks", gettext_lazy("Task queue (django-q cluster)"), timeout=15.0)
def check_tasks(timeout: float) -> Finding:
    from django_q.conf import Conf
    from django_q.models import OrmQ, Task
    from django_q.tasks import async_task

    fix = _(
        "Start mailman-web's task queue (mailman-web qcluster, e.g. systemctl start "
        "mailman3-web-qcluster); without it hyperkitty's caches and list details go stale."
    )
    if Conf.SYNC:
        return ok(_("Tasks run in the process that queues them (Q_CLUSTER sync): no cluster."))
    now = timezone.now()
    if Conf.ORM:
        waiting = OrmQ.objects.using(Conf.ORM).filter(lock__lt=now - QUEUE_STALL)
        oldest = waiting.order_by("lock").values_list("lock", flat=True).first()
        if oldest is not None:
            return error(
                _(
                    "%(count)d task(s) have been waiting in the queue since %(date)s: no "
                    "cluster runs."
                )
                % {"count": waiting.count(), "date": oldest.isoformat(timespec="seconds")},
                fix,
            )
    last = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    last_seen = last.isoformat(timespec="seconds") if last else _("no task yet")
    # Saved even where successes are not (save_limit -1), to be seen.
    task_id = async_task(f"{__name__}.probe", save=True)
    deadline = time.monotonic() + network_timeout(timeout)
    while time.monotonic() < deadline:
        if Task.objects.filter(id=task_id).exists():
            return ok(
                _("The cluster ran a test task at once (task before it: %(last)s).")
                % {"last": last_seen}
            )
        time.sleep(0.1)
    return error(
        _("The cluster did not run a test task within %(seconds)d s (last task: %(last)s).")
        % {"seconds": network_timeout(timeout), "last": last_seen},
        fix,
    )
