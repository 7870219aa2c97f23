"""The project registry: canonical ids, aliases and ingest roots.

A registration names a canonical id (a slug), aliases (unique across every
project) and ingest roots (a configured source plus a relative subpath). Every
project name that crosses a boundary is resolved here, alias -> canonical id;
a project that documents name in their front matter but that nobody has
registered yet is *known but unregistered* and resolves to itself.

Validation is written once (:meth:`ProjectRegistry._review` and the helpers
below) and serves proposal, register, update and YAML import alike. The
database is the truth; ``<data_dir>/projects.yaml`` is a human-readable mirror
written after every change and by :meth:`ProjectRegistry.export_yaml`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any, Callable, Iterable

import yaml
from peewee import fn

from ..errors import NotFound, ValidationError
from ..store import Alert, Chunk, Document, Project, ProjectAlias, utc_now
from ..store.models import Conflict, Entity, Interaction, Memory, ProjectState

LABELLED = (Memory, ProjectState, Interaction, Entity)
"""Rows that carry a project name: a name only they use is a *label* (a
client of the original service wrote it), known but unregistered."""

REGISTRY_FILENAME = "projects.yaml"
BUNDLED_REGISTRY = Path(".atocore") / "projects.yaml"
"""Inside the vault: a hidden folder, so the ingester never reads it."""
YAML_VERSION = 1
YAML_HEADER = "# AtoCore project registry. Import with: atocore-tui projects import FILE\n"

SLUG_RULE = "lowercase letters, digits and dashes, 2-63 characters, starting and ending with a letter or digit"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,61}[a-z0-9]")
_ENTRY_KEYS = ("id", "aliases", "description", "ingest_roots")

Problem = dict[str, str]
PathResolver = Callable[[str, str], "str | None"]


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


class ProjectRegistry:
    def __init__(self, engine):
        self.engine = engine

    # ------------------------------------------------------------ reference
    @property
    def registry_path(self) -> Path:
        return self.engine.data_dir / REGISTRY_FILENAME

    def sources(self) -> dict[str, Path]:
        return self.engine.settings.configured_sources()

    def template(self) -> dict:
        """A registration to start from, where it would be written, and the sources a root may use."""
        source = next(iter(self.sources()), "vault")
        return {
            "template": {"project_id": "my-project", "aliases": ["mp"],
                         "description": "One line on what the project is.",
                         "ingest_roots": [{"source": source, "subpath": "projects/my-project"}]},
            "registry_path": str(self.registry_path),
            "allowed_sources": list(self.sources()),
        }

    # ------------------------------------------------------------- names
    def resolve(self, name: Any) -> str:
        """Alias or id (any case) -> canonical id; NotFound for a name nobody uses."""
        wanted = _name(name)
        if not wanted:
            raise ValidationError("project name must not be blank")
        alias = ProjectAlias.get_or_none(fn.LOWER(ProjectAlias.alias) == wanted)
        if alias is not None:
            return alias.project_id
        project = Project.get_or_none(fn.LOWER(Project.id) == wanted)
        if project is not None:
            return project.id
        documented = (Document.select(Document.project).where(Document.project == wanted).first()
                      or Document.select(Document.project).where(fn.LOWER(Document.project) == wanted).first())
        if documented is not None:
            return documented.project
        for model in LABELLED:
            if model.select().where(model.project == wanted).exists():
                return wanted
        raise NotFound(f"unknown project: {name}")

    def known(self) -> set[str]:
        """Registered ids and the projects that documents name but nobody registered."""
        registrations = self._load()
        return set(registrations) | self._unregistered(registrations)

    def names(self, project: str) -> list[str]:
        """A canonical id and its aliases (retrieval boosts notes that mention any)."""
        aliases = sorted(a.alias for a in ProjectAlias.select().where(ProjectAlias.project == project))
        return [project, *aliases]

    def path_resolver(self) -> PathResolver | None:
        """For ingestion: (source, relative path) -> the project whose ingest root holds it.

        ``None`` when nothing is registered, so the ingester keeps its fast
        unchanged-file path. Roots never overlap, so the first match is the only one.
        """
        registrations = self._load()
        if not registrations:
            return None
        roots = [(r["source"], r["subpath"], pid) for pid, reg in registrations.items() for r in reg.ingest_roots]

        def project_for(source: str, path: str) -> str | None:
            for root_source, subpath, pid in roots:
                if root_source == source and (not subpath or path == subpath or path.startswith(subpath + "/")):
                    return pid
            return None

        return project_for

    # ------------------------------------------------------------- reading
    def list(self) -> dict:
        """Every registered project, then the known-but-unregistered ones, with counts."""
        registrations = self._load()
        counts = self._counts()
        rows = {p.id: p for p in Project.select()}
        projects = [self._entry(reg, rows[pid], counts) for pid, reg in sorted(registrations.items())]
        labels = set(self.labels())
        projects += [self._entry(Registration(pid), None, counts, label=pid in labels)
                     for pid in sorted(self._unregistered(registrations))]
        return {"projects": projects, "registry_path": str(self.registry_path)}

    def get(self, name: Any) -> dict:
        pid = self.resolve(name)
        reg = self._load().get(pid)
        counts = self._counts(pid)
        if reg is None:
            return self._entry(Registration(pid), None, counts, label=pid in self.labels())
        return self._entry(reg, Project.get_by_id(pid), counts)

    # ------------------------------------------------------------- writing
    def proposal(self, project_id: Any, aliases: Any = None, description: Any = "",
                 ingest_roots: Any = None) -> dict:
        """Validate and normalise a new registration without writing anything."""
        reg, problems = self._review_new(project_id, aliases, description, ingest_roots)
        return {"valid": not problems, "problems": problems, "normalised": reg.to_dict()}

    def register(self, project_id: Any, aliases: Any = None, description: Any = "",
                 ingest_roots: Any = None) -> dict:
        """Persist a new registration; ValidationError lists every problem and nothing is written."""
        reg, problems = self._review_new(project_id, aliases, description, ingest_roots)
        _raise_if(problems, f"cannot register project {reg.project_id or project_id!r}")
        with self.engine.db.atomic():
            _save(reg, create=True)
        self.export_yaml()
        return self.get(reg.project_id)

    def update(self, name: Any, aliases: Any = None, description: Any = None,
               ingest_roots: Any = None) -> dict:
        """Change a registered project (by id or alias); ``None`` keeps a field as it is."""
        pid = self._registered(name)
        registrations = self._load()
        current = registrations.pop(pid)
        reg, problems = _normalise(
            pid,
            current.aliases if aliases is None else aliases,
            current.description if description is None else description,
            current.ingest_roots if ingest_roots is None else ingest_roots)
        problems += self._review(reg, registrations.values(), trusted_roots=current.ingest_roots)
        _raise_if(problems, f"cannot update project {pid!r}")
        if reg != current:
            with self.engine.db.atomic():
                ProjectAlias.delete().where(ProjectAlias.project == pid).execute()
                _save(reg, create=False)
            self.export_yaml()
        return self.get(pid)

    def refresh(self, name: Any, purge_deleted: bool = False, progress=None) -> dict:
        """Ingest every root of a registered project. A root whose folder is gone
        is skipped with its reason (and an alert), never fatal."""
        pid = self._registered(name)
        reg = self._load()[pid]
        purge_deleted = bool(purge_deleted)
        roots = []
        for root in reg.ingest_roots:
            path, reason = self._root_folder(root)
            entry = {"source": root["source"], "subpath": root["subpath"],
                     "path": str(path) if path else None, "status": "skipped", "reason": reason, "summary": None}
            if not reason:
                try:
                    report = self.engine.ingest(path, project=pid, purge_deleted=purge_deleted, progress=progress)
                    entry.update(status="ingested", summary=report.summary())
                except NotFound as error:
                    entry["reason"] = str(error)
            if entry["status"] == "skipped":
                _alert(f"Project {pid}: ingest root {root_label(root)} skipped", entry["reason"])
            roots.append(entry)
        ingested = sum(1 for r in roots if r["status"] == "ingested")
        skipped = len(roots) - ingested
        if ingested:
            Project.update(last_refreshed_at=utc_now()).where(Project.id == pid).execute()
        status = ("ingested" if ingested and not skipped else "partial" if ingested
                  else "nothing_ingested")
        return {"project": pid, "aliases": reg.aliases, "description": reg.description,
                "purge_deleted": purge_deleted, "status": status, "roots_ingested": ingested,
                "roots_skipped": skipped, "roots": roots}

    # ------------------------------------------------------------------ YAML
    def export_yaml(self, path: str | Path | None = None) -> str:
        """The registry as YAML, written to ``path`` (default: :attr:`registry_path`)."""
        projects = [{"id": reg.project_id, "aliases": reg.aliases, "description": reg.description,
                     "ingest_roots": reg.ingest_roots} for _, reg in sorted(self._load().items())]
        text = YAML_HEADER + yaml.safe_dump({"version": YAML_VERSION, "projects": projects},
                                            sort_keys=False, allow_unicode=True, default_flow_style=False)
        _write_text(Path(path).expanduser() if path else self.registry_path, text)
        return text

    def import_yaml(self, text_or_path: str | Path, *, text_only: bool = False) -> dict:
        """Register or update every project of a YAML registry, all or nothing.

        The file's projects are checked against each other and against the
        registered projects they do not replace; nothing is written unless all
        of them are valid. Projects not in the file are left as they are.
        ``text_only``: a string is always the YAML itself, never a file to read
        (the HTTP face: a caller must not make the server read its files).
        """
        text, origin = ((str(text_or_path), "registry YAML") if text_only
                        else _read_yaml_input(text_or_path))
        entries = _parse_registry_yaml(text, origin)
        current = self._load()
        incoming: list[Registration] = []
        labels: list[str] = []
        problems: list[Problem] = []
        for index, entry in enumerate(entries, 1):
            reg, found = _normalise(entry.get("id"), entry.get("aliases"), entry.get("description", ""),
                                    entry.get("ingest_roots"))
            if reg.project_id and reg.project_id in (r.project_id for r in incoming):
                found.append(_problem("project_id", f"project {reg.project_id!r} appears twice in the file"))
            incoming.append(reg)
            labels.append(reg.project_id if is_slug(reg.project_id) else f"project #{index}")
            problems += [_problem(p["field"], f"{labels[-1]}: {p['message']}") for p in found]
        final = {**current, **{r.project_id: r for r in incoming}}
        for label, reg in zip(labels, incoming):
            others = [r for pid, r in final.items() if pid != reg.project_id]
            trusted = current[reg.project_id].ingest_roots if reg.project_id in current else []
            problems += [_problem(p["field"], f"{label}: {p['message']}")
                         for p in self._review(reg, others, trusted_roots=trusted)]
        _raise_if(problems, f"cannot import {origin}")
        changed = [r for r in incoming if current.get(r.project_id) != r]
        with self.engine.db.atomic():
            ProjectAlias.delete().where(ProjectAlias.project.in_([r.project_id for r in changed])).execute()
            for reg in changed:
                _save(reg, create=reg.project_id not in current, aliases=False)
            for reg in changed:
                for alias in reg.aliases:
                    ProjectAlias.create(alias=alias, project=reg.project_id)
        self.export_yaml()
        return {"imported": len(incoming),
                "created": [r.project_id for r in changed if r.project_id not in current],
                "updated": [r.project_id for r in changed if r.project_id in current],
                "unchanged": [r.project_id for r in incoming if r not in changed],
                "registry_path": str(self.registry_path)}

    def import_bundled_if_empty(self) -> dict | None:
        """First run: import ``<vault>/.atocore/projects.yaml`` when nothing is registered.

        A bundled file that does not validate becomes an alert, never a failed ingestion.
        """
        vault = self.sources().get("vault")
        if vault is None or Project.select().exists():
            return None
        bundled = vault / BUNDLED_REGISTRY
        if not bundled.is_file():
            return None
        try:
            return self.import_yaml(bundled)
        except (ValidationError, NotFound) as error:
            _alert("Bundled project registry not imported", str(error))
            return None

    # ------------------------------------------------------------ internals
    def _registered(self, name: Any) -> str:
        pid = self.resolve(name)
        if not Project.select().where(Project.id == pid).exists():
            raise NotFound(f"project {pid!r} is not registered (documents name it): register it first")
        return pid

    def _load(self) -> dict[str, Registration]:
        aliases: dict[str, list[str]] = {}
        for row in ProjectAlias.select().order_by(ProjectAlias.alias):
            aliases.setdefault(row.project_id, []).append(row.alias)
        return {p.id: Registration(p.id, aliases.get(p.id, []), p.description or "", list(p.ingest_roots or []))
                for p in Project.select().order_by(Project.id)}

    @staticmethod
    def _documented() -> set[str]:
        """Project names that documents use, and labels that only other rows use."""
        names = _distinct_projects(Document)
        for model in LABELLED:
            names |= _distinct_projects(model)
        return names

    def labels(self) -> list[str]:
        """Names that memories, state, interactions or entities carry but that no
        document, registered id or alias uses (clients of the original write them)."""
        taken = {name for reg in self._load().values() for name in reg.names()}
        documented = {name.lower() for name in _distinct_projects(Document)}
        found: set[str] = set()
        for model in LABELLED:
            found |= _distinct_projects(model)
        return sorted(n for n in found if n.lower() not in taken and n.lower() not in documented)

    def adopt_label(self, label: Any, project: Any) -> dict:
        """Make a label an alias of a registered project: every row carrying the
        label moves to the project, then the label is added to its aliases."""
        wanted = _name(label)
        if wanted not in self.labels():
            raise NotFound(f"{label!r} is not a project label (labels: {', '.join(self.labels()) or 'none'})")
        pid = self._registered(project)
        reg = self._load()[pid]
        with self.engine.db.atomic():
            for model in (*LABELLED, Conflict):
                model.update(project=pid).where(model.project == wanted).execute()
            return self.update(pid, aliases=[*reg.aliases, wanted])

    def _unregistered(self, registrations: dict[str, Registration]) -> set[str]:
        """Projects named by documents that are no registered id or alias (in any case)."""
        taken = {name for reg in registrations.values() for name in reg.names()}
        return {name for name in self._documented() if name.lower() not in taken}

    @staticmethod
    def _counts(project: str | None = None) -> dict[str, tuple[int, int]]:
        """project -> (documents, chunks), for one project or all."""
        docs = Document.select(Document.project, fn.COUNT(Document.id)).group_by(Document.project)
        chunks = (Chunk.select(Document.project, fn.COUNT(Chunk.key)).join(Document)
                  .group_by(Document.project))
        if project is not None:
            docs = docs.where(Document.project == project)
            chunks = chunks.where(Document.project == project)
        chunk_counts = dict(chunks.tuples())
        return {pid: (n, chunk_counts.get(pid, 0)) for pid, n in docs.tuples()}

    def _entry(self, reg: Registration, row: Project | None, counts: dict, label: bool = False) -> dict:
        """``label``: an unregistered name that only memories, state, interactions
        or entities carry (see :meth:`labels`)."""
        documents, chunks = counts.get(reg.project_id, (0, 0))
        roots = []
        for root in reg.ingest_roots:
            path, reason = self._root_folder(root)
            roots.append({**root, "path": str(path) if path else None, "exists": not reason})
        return {"id": reg.project_id, "registered": row is not None, "label": label, "aliases": reg.aliases,
                "description": reg.description, "ingest_roots": roots,
                "documents": documents, "chunks": chunks,
                "last_refreshed_at": row.last_refreshed_at if row else None,
                "created_at": row.created_at if row else None,
                "updated_at": row.updated_at if row else None}

    def _root_folder(self, root: dict[str, str]) -> tuple[Path | None, str]:
        """The root's folder and, if it cannot be ingested, why."""
        sources = self.sources()
        base = sources.get(root["source"])
        if base is None:
            known = ", ".join(sources) or "none"
            return None, f"unknown source {root['source']!r} (configured sources: {known})"
        folder = base / root["subpath"] if root["subpath"] else base
        if not folder.exists():
            return folder, f"ingest root {root_label(root)} does not exist: {folder}"
        if not folder.is_dir():
            return folder, f"ingest root {root_label(root)} is not a folder: {folder}"
        resolved, base_resolved = folder.resolve(), base.resolve()
        if resolved != base_resolved and base_resolved not in resolved.parents:
            return folder, f"ingest root {root_label(root)} leads outside the {root['source']} source: {resolved}"
        return folder, ""

    def _review_new(self, project_id, aliases, description, ingest_roots) -> tuple[Registration, list[Problem]]:
        reg, problems = _normalise(project_id, aliases, description, ingest_roots)
        registrations = self._load()
        if reg.project_id in registrations:
            problems.append(_problem("project_id", f"project {reg.project_id!r} is already registered: use update"))
            registrations.pop(reg.project_id)
        return reg, problems + self._review(reg, registrations.values())

    def _review(self, reg: Registration, others: Iterable[Registration],
                trusted_roots: Iterable[dict] = ()) -> list[Problem]:
        """Problems of a normalised registration against the other projects and
        the disk. Roots already registered unchanged (``trusted_roots``) are not
        re-checked on disk, so a description edit works while a drive is away."""
        problems = _collisions(reg, list(others), self._documented())
        trusted = list(trusted_roots)
        for root in reg.ingest_roots:
            if root in trusted:
                continue
            _, reason = self._root_folder(root)
            if reason:
                problems.append(_problem("ingest_roots", reason))
        return problems


# ------------------------------------------------------------------ helpers
def _distinct_projects(model) -> set[str]:
    """The non-blank values of ``model.project``, by a skip scan of its index
    (one index probe per distinct value, so 100k rows cost what 20 do)."""
    table = model._meta.table_name
    cursor = model._meta.database.execute_sql(
        f'WITH RECURSIVE p(v) AS (SELECT MIN("project") FROM "{table}" WHERE "project" > \'\' '
        f'UNION ALL SELECT (SELECT MIN("project") FROM "{table}" WHERE "project" > p.v) FROM p '
        f'WHERE p.v IS NOT NULL) SELECT v FROM p WHERE v IS NOT NULL')
    return {row[0] for row in cursor.fetchall()}


def _problem(field_name: str, message: str) -> Problem:
    return {"field": field_name, "message": message}


def _raise_if(problems: list[Problem], what: str) -> None:
    if problems:
        raise ValidationError(f"{what}: " + "; ".join(p["message"] for p in problems))


def _name(value: Any) -> str:
    return "" if value is None else str(value).strip().lower()


def _as_list(value: Any) -> list | None:
    """Lists stay lists, one comma-separated string becomes a list, None is empty."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def _normalise(project_id: Any, aliases: Any, description: Any,
               ingest_roots: Any) -> tuple[Registration, list[Problem]]:
    """Shape checks of one registration (no database, no disk)."""
    problems: list[Problem] = []
    pid = _name(project_id)
    if not pid:
        problems.append(_problem("project_id", "project id must not be blank"))
    elif not is_slug(pid):
        problems.append(_problem("project_id", f"invalid project id {pid!r}: use {SLUG_RULE}"))

    names: list[str] = []
    alias_list = _as_list(aliases)
    if alias_list is None:
        problems.append(_problem("aliases", "aliases must be a list of names"))
        alias_list = []
    for raw in alias_list:
        alias = _name(raw)
        if not alias or alias == pid or alias in names:
            continue
        if not is_slug(alias):
            problems.append(_problem("aliases", f"invalid alias {alias!r}: use {SLUG_RULE}"))
        names.append(alias)

    if description is None:
        description = ""
    if not isinstance(description, str):
        problems.append(_problem("description", "description must be text"))
        description = ""

    roots: list[dict[str, str]] = []
    root_list = _as_list(ingest_roots) if not isinstance(ingest_roots, str) else [ingest_roots]
    if root_list is None:
        problems.append(_problem("ingest_roots", "ingest_roots must be a list of {source, subpath}"))
        root_list = []
    for raw in root_list:
        root, found = _normalise_root(raw)
        problems += found
        if root is not None:
            roots.append(root)
    for i, a in enumerate(roots):
        for b in roots[i + 1:]:
            if _overlap(a, b):
                problems.append(_problem("ingest_roots", f"ingest roots {root_label(a)} and {root_label(b)} overlap"))
    return Registration(pid, sorted(names), description.strip(), roots), problems


def _normalise_root(raw: Any) -> tuple[dict[str, str] | None, list[Problem]]:
    if isinstance(raw, str):
        try:
            raw = parse_root(raw)
        except ValidationError as error:
            return None, [_problem("ingest_roots", str(error))]
    if not isinstance(raw, dict):
        return None, [_problem("ingest_roots", f"ingest root {raw!r} must be {{source, subpath}}")]
    source = _name(raw.get("source"))
    text = "" if raw.get("subpath") is None else str(raw.get("subpath")).strip().replace("\\", "/")
    if not source:
        return None, [_problem("ingest_roots", f"ingest root {text!r} has no source")]
    if text.startswith(("/", "~")) or PureWindowsPath(text).drive:
        return None, [_problem("ingest_roots", f"ingest root subpath {text!r} must be relative to the {source} source")]
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, [_problem("ingest_roots", f"ingest root subpath {text!r} must not contain '..'")]
    if any(p.startswith(".") for p in parts):
        return None, [_problem("ingest_roots", f"ingest root subpath {text!r} is inside a hidden folder")]
    return {"source": source, "subpath": "/".join(parts)}, []


def _overlap(a: dict[str, str], b: dict[str, str]) -> bool:
    """Same source, and one subpath is the other or lies inside it ('' is the whole source)."""
    if a["source"] != b["source"]:
        return False
    x, y = a["subpath"], b["subpath"]
    return not x or not y or x == y or x.startswith(y + "/") or y.startswith(x + "/")


def _collisions(reg: Registration, others: list[Registration], documented: set[str]) -> list[Problem]:
    """Names and roots that another project already uses."""
    problems: list[Problem] = []
    owner: dict[str, tuple[str, str]] = {}
    for other in others:
        owner[other.project_id] = (other.project_id, "id")
        for alias in other.aliases:
            owner[alias] = (other.project_id, "alias")
    if reg.project_id in owner and owner[reg.project_id][1] == "alias":
        problems.append(_problem("project_id",
                                 f"project id {reg.project_id!r} is already an alias of project {owner[reg.project_id][0]!r}"))
    other_documented = {d.lower() for d in documented} - {reg.project_id}
    for alias in reg.aliases:
        if alias in owner:
            other, kind = owner[alias]
            message = (f"alias {alias!r} is the id of project {other!r}" if kind == "id"
                       else f"alias {alias!r} is already an alias of project {other!r}")
            problems.append(_problem("aliases", message))
        elif alias in other_documented:
            problems.append(_problem("aliases", f"alias {alias!r} is the name of a project that documents use"))
    for root in reg.ingest_roots:
        for other in others:
            for theirs in other.ingest_roots:
                if _overlap(root, theirs):
                    problems.append(_problem("ingest_roots", f"ingest root {root_label(root)} overlaps "
                                                             f"{root_label(theirs)} of project {other.project_id!r}"))
    return problems


def _save(reg: Registration, *, create: bool, aliases: bool = True) -> None:
    """Write one registration's row (and, unless told not to, its aliases); call inside a transaction."""
    now = utc_now()
    if create:
        Project.create(id=reg.project_id, description=reg.description, ingest_roots=reg.ingest_roots,
                       created_at=now, updated_at=now)
    else:
        Project.update(description=reg.description, ingest_roots=reg.ingest_roots,
                       updated_at=now).where(Project.id == reg.project_id).execute()
    if aliases:
        for alias in reg.aliases:
            ProjectAlias.create(alias=alias, project=reg.project_id)


def _alert(title: str, message: str) -> None:
    """Raise an alert unless the same one is still unacknowledged."""
    open_already = Alert.select().where(Alert.title == title, Alert.message == message,
                                        Alert.acknowledged == False).exists()  # noqa: E712
    if not open_already:
        Alert.create(level="warning", title=title, message=message, source="projects")


def _write_text(path: Path, text: str) -> None:
    """Replace a file in one step, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _read_yaml_input(text_or_path: str | Path) -> tuple[str, str]:
    """A Path, or a one-line string naming a file, is read; any other string is the YAML itself."""
    try:
        as_path = isinstance(text_or_path, Path) or (
            isinstance(text_or_path, str) and "\n" not in text_or_path
            and (Path(text_or_path).expanduser().is_file() or text_or_path.strip().endswith((".yaml", ".yml"))))
    except (OSError, RuntimeError, ValueError):  # no home directory for "~", a NUL, a name too long
        as_path = False
    if not as_path:
        return str(text_or_path), "registry YAML"
    path = Path(text_or_path).expanduser()
    if not path.is_file():
        raise NotFound(f"registry file not found: {path}")
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except UnicodeDecodeError as error:
        raise ValidationError(f"{path}: not UTF-8 (invalid byte at offset {error.start})") from None


def _parse_registry_yaml(text: str, origin: str) -> list[dict]:
    """The ``projects`` list of a registry file; structure errors name the line."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ValidationError(f"{origin}{line}: invalid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise ValidationError(f"{origin}: invalid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("projects", []), list):
        raise ValidationError(f"{origin}: a registry is a mapping with a 'projects' list")
    if data.get("version", YAML_VERSION) != YAML_VERSION:
        raise ValidationError(f"{origin}: unsupported registry version {data.get('version')!r}")
    unknown_top = set(data) - {"version", "projects"}
    if unknown_top:
        raise ValidationError(f"{origin}: unknown keys {', '.join(sorted(map(str, unknown_top)))}")
    entries = data.get("projects") or []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ValidationError(f"{origin}: project #{index} must be a mapping of {', '.join(_ENTRY_KEYS)}")
        unknown = set(entry) - set(_ENTRY_KEYS)
        if unknown:
            raise ValidationError(f"{origin}: project #{index} has unknown keys "
                                  f"{', '.join(sorted(map(str, unknown)))} (allowed: {', '.join(_ENTRY_KEYS)})")
    return entries
