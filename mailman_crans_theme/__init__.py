"""The Crans look for postorius, hyperkitty, django-mailman3 and allauth."""
