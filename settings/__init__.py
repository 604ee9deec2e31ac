"""Settings of Crans' mailman-web: production, embedded default and tests.

Installed as the package ``crans_mailman_web_settings`` (setup.py), the one name
it is imported by, from a clone too (editable install).
"""
