"""Checks that several layers share: written once, called from everywhere."""

from __future__ import annotations

import math
from typing import Any

from .errors import ValidationError


def confidence(value: Any) -> float:
    """A confidence: a finite number from 0 to 1 (a numeric string is read as
    one, as the CLI passes them; booleans are refused)."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"confidence must be a number from 0 to 1, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"confidence must be a number from 0 to 1, got {value!r}") from None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ValidationError(f"confidence must be a number from 0 to 1, got {value!r}")
    return number
