"""The admin's "Deployment check" page: the report of ``mailman-web crans_doctor``, for superusers.

The admin site serves it (``/admin/doctor/``, name ``admin:crans_doctor``), and
its index links to it.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from ..doctor import Status, run_checks


def doctor_view(request):
    """Run every check (each within its timeout) and show the report."""
    if not (request.user.is_active and request.user.is_superuser):
        raise PermissionDenied
    report = run_checks()
    context = {
        **admin.site.each_context(request),
        "title": _("Deployment check"),
        "report": report,
        "statuses": Status,
    }
    return TemplateResponse(request, "admin/crans_admin/doctor.html", context)
