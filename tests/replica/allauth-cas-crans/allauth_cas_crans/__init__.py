"""Crans' old CAS provider, in django-allauth-cas 1.0.0's documented pattern."""
