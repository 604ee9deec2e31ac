"""System checks of the admin-wide rule: every registered admin is under it, and classified."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.sites import all_sites
from django.core.checks import Warning

from .policy import is_classified

POLICY_MODULE = "crans_admin/admin/policy.py"


def check_admin_rule(**kwargs: Any) -> list[Warning]:
    """Warn about admins outside the rule, and models the bundle has not classified."""
    warnings = []
    for site in sorted(all_sites, key=lambda site: site.name):
        for model, model_admin in sorted(
            site._registry.items(), key=lambda item: item[0]._meta.label
        ):
            label = model._meta.label
            if not hasattr(model_admin, "crans_policy"):
                warnings.append(
                    Warning(
                        f"The admin of {label} on the admin site {site.name!r} "
                        f"({type(model_admin).__name__}) is not under the bundle's permission "
                        "rule: staff given its permissions may change what belongs to "
                        "superusers.",
                        hint="Register admins with crans_admin's admin site (admin.site), "
                        "nowhere else.",
                        obj=model_admin,
                        id="crans.W002",
                    )
                )
            elif not is_classified(model):
                warnings.append(
                    Warning(
                        f"{label} is registered in the admin but the bundle has not classified "
                        "it: only superusers can open its pages, whatever permissions staff "
                        "is given.",
                        hint=f"Classify it (delegable, owned, superuser-only) in {POLICY_MODULE}.",
                        obj=model_admin,
                        id="crans.W001",
                    )
                )
    return warnings
