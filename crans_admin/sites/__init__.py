"""The current Site: its domain and name, as the pages and the mail links show them."""

from .changes import SiteChange, apply_site_change, plan_site_change, set_current_site
from .exceptions import InvalidSite
from .validation import check_domain_is_free, validate_site_domain, validate_site_name

__all__ = [
    "InvalidSite",
    "SiteChange",
    "apply_site_change",
    "check_domain_is_free",
    "plan_site_change",
    "set_current_site",
    "validate_site_domain",
    "validate_site_name",
]
