"""Settings of Crans' mailman-web: production, embedded default and tests.

Installed as the package ``crans_mailman_web_settings`` (see pyproject.toml),
imported as ``settings`` from a clone of the repository.
"""
