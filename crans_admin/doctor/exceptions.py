"""The doctor's exceptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .registry import Finding


class Found(Exception):
    """Raised by a helper of a check: ``finding`` is the check's answer."""

    def __init__(self, finding: Finding):
        super().__init__(finding.seen)
        self.finding = finding
