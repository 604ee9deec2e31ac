"""The profile form's time zone: the site's when the member has chosen none.

django-mailman3 stores no time zone until a member picks one (the pages then
follow the site's ``TIME_ZONE``), and its form offers that empty choice as
nothing selected: the browser shows the list's first zone, Africa/Abidjan,
which saving the form for any other field then stores.
"""

from django import template
from django.conf import settings
from django.forms import Form

register = template.Library()


@register.filter
def with_site_time_zone(form: Form) -> Form:
    """Return ``form`` with the site's time zone as its initial one if it has none."""
    if not form.initial.get("timezone"):
        form.initial = {**form.initial, "timezone": settings.TIME_ZONE}
    return form
