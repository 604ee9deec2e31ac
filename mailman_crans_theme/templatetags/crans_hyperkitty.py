"""Hyperkitty's stylesheet, as the installed hyperkitty ships it.

PyPI's hyperkitty links its SCSS source (compiled by sassc through
django-compressor). Debian's patches hyperkitty/base.html to link a
precompiled hyperkitty/libs/hyperkitty.css and ships no Bootstrap SCSS, so
the SCSS cannot compile there. The theme's copy of hyperkitty/base.html links
whichever the installed hyperkitty has.
"""

from django import template
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()

PRECOMPILED = "hyperkitty/libs/hyperkitty.css"  # Debian's
SOURCE = "hyperkitty/sass/hyperkitty.scss"  # PyPI's


@register.simple_tag
def hyperkitty_stylesheet() -> str:
    """Return the <link> of hyperkitty's stylesheet: precompiled when shipped, else SCSS."""
    if finders.find(PRECOMPILED):
        return format_html(
            '<link rel="stylesheet" href="{}" type="text/css" media="all" />', static(PRECOMPILED)
        )
    return format_html(
        '<link rel="stylesheet" type="text/x-scss" media="all" href="{}" />', static(SOURCE)
    )
