"""SQLite for processes that write to one file at once: transactions take the write lock first.

``ENGINE: "crans_admin.sqlite"`` (the embedded default) is Django's SQLite
backend whose transactions start with ``BEGIN IMMEDIATE``. With Django's plain
``BEGIN`` a transaction that has read and then writes while another process
writes fails at once with "database is locked": SQLite does not wait (its
busy timeout does not apply) when a reader asks for the write lock. Taken at
``BEGIN``, the lock is waited for (``OPTIONS["timeout"]``) like any other.
Django 5.1 offers the same as ``OPTIONS["transaction_mode"] = "IMMEDIATE"``.
"""
