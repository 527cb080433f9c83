"""Fixtures shared by the tracking tests."""

from tests.core.tracking.splits import diabetes, digits

__all__ = ["diabetes", "digits"]
