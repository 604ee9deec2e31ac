"""The suite runs on PostgreSQL, as production does, with every migration applied."""

import pytest
from django.core.management import call_command
from django.db import connection


@pytest.mark.django_db
def test_database_is_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_every_migration_is_applied():
    call_command("migrate", check=True, verbosity=0)
