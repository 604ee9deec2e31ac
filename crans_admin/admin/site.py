"""The admin site of the bundle: Django's, with the deployment check page on its index."""

from django.contrib import admin
from django.db.models import Model
from django.urls import path


class CransAdminSite(admin.AdminSite):
    """The default admin site (``admin.site``) once ``CransAdminSiteConfig`` is installed."""

    index_template = "admin/crans_admin/index.html"

    def get_urls(self):
        from .doctor import doctor_view

        return [
            path("doctor/", self.admin_view(doctor_view), name="crans_doctor"),
            *super().get_urls(),
        ]

    def replace(self, model: type[Model], admin_class: type[admin.ModelAdmin]) -> None:
        """Register ``admin_class`` for ``model`` in place of the class an app registered."""
        self.unregister(model)
        self.register(model, admin_class)
