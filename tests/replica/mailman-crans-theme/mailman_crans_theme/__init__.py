"""Crans' old theme: templates only."""
