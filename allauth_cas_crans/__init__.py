"""django-allauth provider "crans": log in through Crans' CAS."""
