"""The project registry: canonical ids, aliases and ingest roots.

A registration names a canonical id (a slug), aliases (unique across every
project) and ingest roots (a configured source plus a relative subpath). Every
project name that crosses a boundary is resolved here, alias -> canonical id;
a project that documents name in their front matter but that nobody has
registered yet is *known but unregistered* and resolves to itself.

Validation is written once (:meth:`ProjectRegistry._review` and
:mod:`.checks`) and serves proposal, register, update and YAML import alike.
The database is the truth; ``<data_dir>/projects.yaml`` is a human-readable
mirror written after every change and by :meth:`ProjectRegistry.export_yaml`.

One module per concern: :mod:`.names` (slugs, roots, registrations),
:mod:`.checks` (shape and collision checks), :mod:`.registry_yaml` (the YAML
mirror), :mod:`.rows` (saving, labels, alerts). Their public names stay
importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import yaml
from peewee import fn

from ..errors import NotFound, ValidationError
from ..store import Chunk, Document, Project, ProjectAlias, utc_now
from ..store.models import Conflict
from .checks import collisions, normalise
from .names import (
    SLUG_RULE,
    Problem,
    Registration,
    is_slug,
    norm_name,
    parse_root,
    problem,
    raise_if,
    required_name,
    root_label,
)
from .registry_yaml import (
    BUNDLED_REGISTRY,
    REGISTRY_FILENAME,
    YAML_HEADER,
    YAML_VERSION,
    parse_registry_yaml,
    read_yaml_input,
    write_text,
)
from .rows import LABELLED, alert, distinct_projects, documented_names, save

__all__ = ["BUNDLED_REGISTRY", "LABELLED", "REGISTRY_FILENAME", "SLUG_RULE", "YAML_HEADER", "YAML_VERSION",
           "PathResolver", "Problem", "ProjectRegistry", "RefreshStatus", "Registration", "is_slug", "parse_root",
           "root_label"]

PathResolver = Callable[[str, str], "str | None"]


class RefreshStatus(StrEnum):
    """A refresh's status, and each root's (``ingested`` or ``skipped``)."""

    INGESTED = "ingested"
    SKIPPED = "skipped"
    PARTIAL = "partial"
    NOTHING_INGESTED = "nothing_ingested"


class _OldNames:
    def list(self, *args: Any, **kwargs: Any) -> Any:
        """The old name of :meth:`ProjectRegistry.list_projects`, kept for callers (faces, tests)."""
        return cast("ProjectRegistry", self).list_projects(*args, **kwargs)


class ProjectRegistry(_OldNames):
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
        wanted = required_name(name)
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
    def list_projects(self) -> dict:
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
        raise_if(problems, f"cannot register project {reg.project_id or project_id!r}")
        with self.engine.db.atomic():
            save(reg, create=True)
        self.export_yaml()
        return self.get(reg.project_id)

    def update(self, name: Any, aliases: Any = None, description: Any = None,
               ingest_roots: Any = None) -> dict:
        """Change a registered project (by id or alias); ``None`` keeps a field as it is."""
        pid = self._registered(name)
        registrations = self._load()
        current = registrations.pop(pid)
        reg, problems = normalise(
            pid,
            current.aliases if aliases is None else aliases,
            current.description if description is None else description,
            current.ingest_roots if ingest_roots is None else ingest_roots)
        problems += self._review(reg, registrations.values(), trusted_roots=current.ingest_roots)
        raise_if(problems, f"cannot update project {pid!r}")
        if reg != current:
            with self.engine.db.atomic():
                ProjectAlias.delete().where(ProjectAlias.project == pid).execute()
                save(reg, create=False)
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
            entry: dict[str, Any] = {"source": root["source"], "subpath": root["subpath"],
                                     "path": str(path) if path else None, "status": RefreshStatus.SKIPPED.value,
                                     "reason": reason, "summary": None}
            if not reason:
                try:
                    report = self.engine.ingest(path, project=pid, purge_deleted=purge_deleted, progress=progress)
                    entry.update(status=RefreshStatus.INGESTED.value, summary=report.summary())
                except NotFound as error:
                    entry["reason"] = str(error)
            if entry["status"] == RefreshStatus.SKIPPED:
                alert(f"Project {pid}: ingest root {root_label(root)} skipped", entry["reason"])
            roots.append(entry)
        ingested = sum(1 for r in roots if r["status"] == RefreshStatus.INGESTED)
        skipped = len(roots) - ingested
        if ingested:
            Project.update(last_refreshed_at=utc_now()).where(Project.id == pid).execute()
        status = (RefreshStatus.INGESTED if ingested and not skipped else RefreshStatus.PARTIAL if ingested
                  else RefreshStatus.NOTHING_INGESTED).value
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
        write_text(Path(path).expanduser() if path else self.registry_path, text)
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
                        else read_yaml_input(text_or_path))
        entries = parse_registry_yaml(text, origin)
        current = self._load()
        incoming: list[Registration] = []
        labels: list[str] = []
        problems: list[Problem] = []
        for index, entry in enumerate(entries, 1):
            reg, found = normalise(entry.get("id"), entry.get("aliases"), entry.get("description", ""),
                                    entry.get("ingest_roots"))
            if reg.project_id and reg.project_id in (r.project_id for r in incoming):
                found.append(problem("project_id", f"project {reg.project_id!r} appears twice in the file"))
            incoming.append(reg)
            labels.append(reg.project_id if is_slug(reg.project_id) else f"project #{index}")
            problems += [problem(p["field"], f"{labels[-1]}: {p['message']}") for p in found]
        final = {**current, **{r.project_id: r for r in incoming}}
        for label, reg in zip(labels, incoming, strict=True):
            others = [r for pid, r in final.items() if pid != reg.project_id]
            trusted = current[reg.project_id].ingest_roots if reg.project_id in current else []
            problems += [problem(p["field"], f"{label}: {p['message']}")
                         for p in self._review(reg, others, trusted_roots=trusted)]
        raise_if(problems, f"cannot import {origin}")
        changed = [r for r in incoming if current.get(r.project_id) != r]
        with self.engine.db.atomic():
            ProjectAlias.delete().where(ProjectAlias.project.in_([r.project_id for r in changed])).execute()
            for reg in changed:
                save(reg, create=reg.project_id not in current, aliases=False)
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
            alert("Bundled project registry not imported", str(error))
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

    def labels(self) -> list[str]:
        """Names that memories, state, interactions or entities carry but that no
        document, registered id or alias uses (clients of the original write them)."""
        taken = {name for reg in self._load().values() for name in reg.names()}
        documented = {name.lower() for name in distinct_projects(Document)}
        found: set[str] = set()
        for model in LABELLED:
            found |= distinct_projects(model)
        return sorted(n for n in found if n.lower() not in taken and n.lower() not in documented)

    def adopt_label(self, label: Any, project: Any) -> dict:
        """Make a label an alias of a registered project: every row carrying the
        label moves to the project, then the label is added to its aliases."""
        wanted = norm_name(label)
        if wanted not in self.labels():
            raise NotFound(f"{label!r} is not a project label (labels: {', '.join(self.labels()) or 'none'})")
        pid = self._registered(project)
        reg = self._load()[pid]
        with self.engine.db.atomic():
            models: tuple[Any, ...] = (*LABELLED, Conflict)
            for model in models:
                model.update(project=pid).where(model.project == wanted).execute()
            return self.update(pid, aliases=[*reg.aliases, wanted])

    def _unregistered(self, registrations: dict[str, Registration]) -> set[str]:
        """Projects named by documents that are no registered id or alias (in any case)."""
        taken = {name for reg in registrations.values() for name in reg.names()}
        return {name for name in documented_names() if name.lower() not in taken}

    @staticmethod
    def _counts(project: str | None = None) -> dict[str, tuple[int, int]]:
        """project -> (documents, chunks), for one project or all."""
        docs = Document.select(Document.project, fn.COUNT(Document.id)).group_by(Document.project)
        chunks = (Chunk.select(Document.project, fn.COUNT(Chunk.key)).join(Document)
                  .group_by(Document.project))
        if project is not None:
            docs = docs.where(Document.project == project)
            chunks = chunks.where(Document.project == project)
        chunk_counts: dict[str, int] = dict(cast(Iterable[tuple[str, int]], chunks.tuples()))
        doc_counts = cast(Iterable[tuple[str, int]], docs.tuples())
        return {pid: (n, chunk_counts.get(pid, 0)) for pid, n in doc_counts}

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
        reg, problems = normalise(project_id, aliases, description, ingest_roots)
        registrations = self._load()
        if reg.project_id in registrations:
            problems.append(problem("project_id", f"project {reg.project_id!r} is already registered: use update"))
            registrations.pop(reg.project_id)
        return reg, problems + self._review(reg, registrations.values())

    def _review(self, reg: Registration, others: Iterable[Registration],
                trusted_roots: Iterable[dict] = ()) -> list[Problem]:
        """Problems of a normalised registration against the other projects and
        the disk. Roots already registered unchanged (``trusted_roots``) are not
        re-checked on disk, so a description edit works while a drive is away."""
        problems = collisions(reg, list(others), documented_names())
        trusted = list(trusted_roots)
        for root in reg.ingest_roots:
            if root in trusted:
                continue
            _, reason = self._root_folder(root)
            if reason:
                problems.append(problem("ingest_roots", reason))
        return problems

