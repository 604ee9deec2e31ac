"""The admin's "Deployment check" page: the report of ``mailman-web crans_doctor``, for superusers.

The page is added to the admin site's own URLs (``/admin/doctor/``, name
``admin:crans_doctor``), and the admin index links to it.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from .doctor import Status, run_checks


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


def get_urls(urls=admin.site.get_urls):
    return [path("doctor/", admin.site.admin_view(doctor_view), name="crans_doctor"), *urls()]


admin.site.get_urls = get_urls
admin.site.index_template = "admin/crans_admin/index.html"
