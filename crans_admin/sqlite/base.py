"""Django's SQLite backend, its transactions started with ``BEGIN IMMEDIATE`` (see the package)."""

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        self.cursor().execute("BEGIN IMMEDIATE")
