"""The admin site of the bundle: Django's, with the deployment check page on its index, and
the admin-wide permission rule (:mod:`.rule`) on every ModelAdmin registered with it."""

from collections.abc import Iterable

from django.contrib import admin
from django.db.models import Model
from django.db.models.base import ModelBase
from django.urls import path

from .rule import enforce


class CransAdminSite(admin.AdminSite):
    """The default admin site (``admin.site``) once ``CransAdminSiteConfig`` is installed."""

    index_template = "admin/crans_admin/index.html"

    def get_urls(self):
        from .doctor import doctor_view

        return [
            path("doctor/", self.admin_view(doctor_view), name="crans_doctor"),
            *super().get_urls(),
        ]

    def register(
        self,
        model_or_iterable: type[Model] | Iterable[type[Model]],
        admin_class: type[admin.ModelAdmin] | None = None,
        **options,
    ) -> None:
        """Register as Django does, then put each model's policy on its ModelAdmin."""
        if isinstance(model_or_iterable, ModelBase):
            models = [model_or_iterable]
        else:
            models = list(model_or_iterable)
        super().register(models, admin_class, **options)
        for model in models:
            if model in self._registry:  # a swapped model is not registered
                enforce(self._registry[model])

    def replace(self, model: type[Model], admin_class: type[admin.ModelAdmin]) -> None:
        """Register ``admin_class`` for ``model`` in place of the class an app registered."""
        self.unregister(model)
        self.register(model, admin_class)
