"""Checks that several layers share: written once, called from everywhere.

Each check returns the value normalised or raises
:class:`~atocore_tui.errors.ValidationError` naming what was wrong (and, with
``field=``, which input), so a caller never writes its own "must not be blank"
or "limit 1..N".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .errors import ValidationError


def confidence(value: Any) -> float:
    """A confidence: a finite number from 0 to 1 (a numeric string is read as
    one, as the CLI passes them; booleans are refused)."""
    problem = f"confidence must be a number from 0 to 1, got {value!r}"
    if isinstance(value, bool) or value is None:
        raise ValidationError(problem, field="confidence")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(problem, field="confidence") from None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ValidationError(problem, field="confidence")
    return number


def whole_number(value: Any, what: str, lo: int, hi: int, *, field: str | None = None,
                 show_value: bool = True) -> int:
    """A whole number from ``lo`` to ``hi`` (booleans and floats are refused).
    ``show_value`` adds ", got …" to the message."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        got = f", got {value!r}" if show_value else ""
        raise ValidationError(f"{what} must be a whole number from {lo} to {hi}{got}", field=field)
    return value


def text(value: Any, what: str, *, max_chars: int | None = None, field: str | None = None,
         numbers: bool = False) -> str:
    """Non-blank text, trimmed; at most ``max_chars`` characters when given.
    ``numbers``: a number is accepted and read as its text (key/value forms)."""
    if numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        if numbers:
            raise ValidationError(f"{what} must be text", field=field)
        raise ValidationError(f"{what} must not be blank", field=field)
    trimmed = value.strip()
    if not trimmed:
        raise ValidationError(f"{what} must not be blank", field=field)
    if max_chars is not None and len(trimmed) > max_chars:
        raise ValidationError(f"{what} is {len(trimmed)} characters; the limit is {max_chars}", field=field)
    return trimmed


def one_of(value: Any, choices: Iterable[str], what: str, *, field: str | None = None) -> str:
    """One of ``choices``, matched without regard to case or surrounding space;
    returns the choice (a plain ``str``, even when the choices are a StrEnum)."""
    allowed = [str(choice) for choice in choices]
    name = value.strip().lower() if isinstance(value, str) else None
    if name not in allowed:
        raise ValidationError(f"unknown {what} {value!r}: use one of {', '.join(allowed)}", field=field)
    return name
