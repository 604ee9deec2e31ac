"""The admin site of the bundle: Django's, with the deployment check page on its index, and
the admin-wide permission rule (:mod:`.rule`) on every ModelAdmin registered with it."""

from collections.abc import Iterable

from django.contrib import admin
from django.db.models import Model
from django.db.models.base import ModelBase
from django.urls import path
from django.utils.translation import gettext_lazy

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
                translate_names(model)

    def replace(self, model: type[Model], admin_class: type[admin.ModelAdmin]) -> None:
        """Register ``admin_class`` for ``model`` in place of the class an app registered."""
        self.unregister(model)
        self.register(model, admin_class)


def translate_names(model: type[Model]) -> None:
    """Names that Django derives from the class (upstream's Meta gives none) through the
    catalogues: the theme's French has them ("mail domains", "mailing list"...).

    Only ``_meta`` changes, not the Meta attributes that migrations compare.
    """
    opts = model._meta
    for name in ("verbose_name", "verbose_name_plural"):
        if name not in opts.original_attrs:
            setattr(opts, name, gettext_lazy(str(getattr(opts, name))))  # noqa: INT001
