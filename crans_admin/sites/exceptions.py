"""Why the Site cannot be set as asked."""

from django.core.exceptions import ValidationError


class InvalidSite(ValidationError):
    """A domain or name refused for the Site (a form error in the admin); nothing changed."""
