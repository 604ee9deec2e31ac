"""What is wrong with the running deployment, and how to fix it.

``mailman-web crans_doctor`` and the admin's "Deployment check" page run these
checks. Each looks at one part of the deployment and returns a :class:`Finding`:
a status, what was seen and, unless all is well, the fix in one sentence.
:func:`run_checks` runs them in parallel, each within its own timeout, and
returns a :class:`Report`. Nothing is changed, except that the ``tasks`` check
hands the task queue a task that does nothing, to see it run.

- :mod:`.registry`: the framework (findings, ``@check``, ``run_checks``);
- one module per area, its checks in the order of the report:
  :mod:`.configuration` (``settings``, ``deploy``), :mod:`.database`,
  :mod:`.mailman` (``core``, ``archiver``), :mod:`.site`, :mod:`.files`
  (``compress``, ``static``, ``translations``), :mod:`.search`, :mod:`.cas`,
  :mod:`.lists`, :mod:`.tasks`, :mod:`.mail` (``smtp``), :mod:`.upgrade`
  (``old-packages``, ``old-uids``, ``old-tasks``, ``old-index``).

A new check is a function decorated with ``@check`` in the module of its area;
a new area is a module, imported below at its place in the report.
"""

from .exceptions import Found
from .registry import CHECKS, Check, CheckResult, Finding, Report, Status, check, run_checks

# The areas register their checks as they are imported: this order is the report's.
# isort: off
from . import configuration, database, mailman, site, files  # noqa: F401
from . import search, cas, lists, tasks, mail  # noqa: F401
from . import upgrade  # noqa: F401
# isort: on

__all__ = [
    "CHECKS",
    "Check",
    "CheckResult",
    "Finding",
    "Found",
    "Report",
    "Status",
    "check",
    "run_checks",
]
