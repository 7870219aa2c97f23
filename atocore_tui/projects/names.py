"""Project names and registrations: the slug rule, ingest roots written
``source:subpath``, the normalised :class:`Registration`, and problems (a
field and a message) that a refused registration lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import validation
from ..errors import ValidationError

SLUG_RULE = "lowercase letters, digits and dashes, 2-63 characters, starting and ending with a letter or digit"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,61}[a-z0-9]")

Problem = dict[str, str]


def is_slug(text: Any) -> bool:
    """The one rule for project ids and aliases."""
    return isinstance(text, str) and bool(_SLUG.fullmatch(text))


def parse_root(text: str) -> dict[str, str]:
    """``"vault:projects/x"`` -> ``{"source": "vault", "subpath": "projects/x"}`` (CLI and forms)."""
    source, sep, subpath = str(text).partition(":")
    if not sep or not source.strip():
        raise ValidationError(f"ingest root {text!r} must be written source:subpath, e.g. vault:projects/my-project")
    return {"source": source.strip(), "subpath": subpath.strip()}


def root_label(root: dict[str, str]) -> str:
    return f"{root['source']}:{root['subpath'] or '.'}"


@dataclass
class Registration:
    """A normalised registration: what proposal returns and register stores."""

    project_id: str
    aliases: list[str] = field(default_factory=list)
    description: str = ""
    ingest_roots: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"project_id": self.project_id, "aliases": list(self.aliases),
                "description": self.description, "ingest_roots": [dict(r) for r in self.ingest_roots]}

    def names(self) -> list[str]:
        return [self.project_id, *self.aliases]


def required_name(value: Any, what: str = "project name") -> str:
    """A project name that must be given: trimmed, lowercase."""
    return validation.text("" if value is None else str(value), what).lower()


def problem(field_name: str, message: str) -> Problem:
    return {"field": field_name, "message": message}


def raise_if(problems: list[Problem], what: str) -> None:
    if problems:
        raise ValidationError(f"{what}: " + "; ".join(p["message"] for p in problems))


def norm_name(value: Any) -> str:
    return "" if value is None else str(value).strip().lower()


def as_list(value: Any) -> list | None:
    """Lists stay lists, one comma-separated string becomes a list, None is empty."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return None
