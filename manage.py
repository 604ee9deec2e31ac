#!/usr/bin/env python3
"""Run mailman-web with this bundle: the embedded default settings unless told otherwise."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")
    os.environ.setdefault("MAILMAN_WEB_LOCAL_DIR", str(here / "var"))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
