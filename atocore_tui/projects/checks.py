"""Shape and collision checks of a registration (no disk): written once for
proposal, register, update and YAML import alike."""

from __future__ import annotations

from pathlib import PureWindowsPath
from typing import Any

from ..errors import ValidationError
from .names import SLUG_RULE, Problem, Registration, as_list, is_slug, norm_name, parse_root, problem, root_label


def normalise(project_id: Any, aliases: Any, description: Any,
               ingest_roots: Any) -> tuple[Registration, list[Problem]]:
    """Shape checks of one registration (no database, no disk)."""
    problems: list[Problem] = []
    pid = norm_name(project_id)
    if not pid:
        problems.append(problem("project_id", "project id must not be blank"))
    elif not is_slug(pid):
        problems.append(problem("project_id", f"invalid project id {pid!r}: use {SLUG_RULE}"))

    names: list[str] = []
    alias_list = as_list(aliases)
    if alias_list is None:
        problems.append(problem("aliases", "aliases must be a list of names"))
        alias_list = []
    for raw in alias_list:
        alias = norm_name(raw)
        if not alias or alias == pid or alias in names:
            continue
        if not is_slug(alias):
            problems.append(problem("aliases", f"invalid alias {alias!r}: use {SLUG_RULE}"))
        names.append(alias)

    if description is None:
        description = ""
    if not isinstance(description, str):
        problems.append(problem("description", "description must be text"))
        description = ""

    roots: list[dict[str, str]] = []
    root_list = as_list(ingest_roots) if not isinstance(ingest_roots, str) else [ingest_roots]
    if root_list is None:
        problems.append(problem("ingest_roots", "ingest_roots must be a list of {source, subpath}"))
        root_list = []
    for raw in root_list:
        root, found = normalise_root(raw)
        problems += found
        if root is not None:
            roots.append(root)
    for i, a in enumerate(roots):
        for b in roots[i + 1:]:
            if overlap(a, b):
                problems.append(problem("ingest_roots", f"ingest roots {root_label(a)} and {root_label(b)} overlap"))
    return Registration(pid, sorted(names), description.strip(), roots), problems


def normalise_root(raw: Any) -> tuple[dict[str, str] | None, list[Problem]]:
    if isinstance(raw, str):
        try:
            raw = parse_root(raw)
        except ValidationError as error:
            return None, [problem("ingest_roots", str(error))]
    if not isinstance(raw, dict):
        return None, [problem("ingest_roots", f"ingest root {raw!r} must be {{source, subpath}}")]
    source = norm_name(raw.get("source"))
    text = "" if raw.get("subpath") is None else str(raw.get("subpath")).strip().replace("\\", "/")
    if not source:
        return None, [problem("ingest_roots", f"ingest root {text!r} has no source")]
    if text.startswith(("/", "~")) or PureWindowsPath(text).drive:
        return None, [problem("ingest_roots", f"ingest root subpath {text!r} must be relative to the {source} source")]
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, [problem("ingest_roots", f"ingest root subpath {text!r} must not contain '..'")]
    if any(p.startswith(".") for p in parts):
        return None, [problem("ingest_roots", f"ingest root subpath {text!r} is inside a hidden folder")]
    return {"source": source, "subpath": "/".join(parts)}, []


def overlap(a: dict[str, str], b: dict[str, str]) -> bool:
    """Same source, and one subpath is the other or lies inside it ('' is the whole source)."""
    if a["source"] != b["source"]:
        return False
    x, y = a["subpath"], b["subpath"]
    return not x or not y or x == y or x.startswith(y + "/") or y.startswith(x + "/")


def collisions(reg: Registration, others: list[Registration], documented: set[str]) -> list[Problem]:
    """Names and roots that another project already uses."""
    problems: list[Problem] = []
    owner: dict[str, tuple[str, str]] = {}
    for other in others:
        owner[other.project_id] = (other.project_id, "id")
        for alias in other.aliases:
            owner[alias] = (other.project_id, "alias")
    if reg.project_id in owner and owner[reg.project_id][1] == "alias":
        problems.append(problem("project_id", f"project id {reg.project_id!r} is already an alias of project "
                                              f"{owner[reg.project_id][0]!r}"))
    other_documented = {d.lower() for d in documented} - {reg.project_id}
    for alias in reg.aliases:
        if alias in owner:
            owner_id, kind = owner[alias]
            message = (f"alias {alias!r} is the id of project {owner_id!r}" if kind == "id"
                       else f"alias {alias!r} is already an alias of project {owner_id!r}")
            problems.append(problem("aliases", message))
        elif alias in other_documented:
            problems.append(problem("aliases", f"alias {alias!r} is the name of a project that documents use"))
    for root in reg.ingest_roots:
        for other in others:
            for theirs in other.ingest_roots:
                if overlap(root, theirs):
                    problems.append(problem("ingest_roots", f"ingest root {root_label(root)} overlaps "
                                                             f"{root_label(theirs)} of project {other.project_id!r}"))
    return problems
