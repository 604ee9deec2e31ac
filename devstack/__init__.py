"""The development stack: what the demo, the tests and the benchmarks run.

- ``devstack.demo``: the whole stack on one machine (``bash .ci/demo``);
- ``devstack.core``: Mailman core 3.3.10 in its own virtualenv, and an SMTP sink;
- ``devstack.cas_server``: a real CAS server (django-cas-server);
- ``devstack.postgresql``: databases on the tests' PostgreSQL server;
- ``devstack.processes``: free ports, waiting, ending processes by their PIDs;
- ``devstack.search_index``: Whoosh or Xapian indexes in a folder, and what one holds.

The pytest fixtures of ``tests/fixtures/`` start these for the tests.
"""
