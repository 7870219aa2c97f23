"""Which project a prompt is about, when the caller did not say.

An explicit project always wins. Otherwise the prompt gets a project only on
clear evidence, in this order:

1. it names exactly one project: its id or an alias as a whole word (any case;
   a hyphen in a name also matches a space, so "cold plate" names
   ``cold-plate``; an identifier that merely starts with an alias, such as
   ``CP-B-004`` for ``cp``, does not count);
2. most of the best retrieved notes (at least :data:`HIT_MAJORITY` of the top
   :data:`HITS_CONSIDERED`, counting only notes that share a word with the
   prompt) come from one project.

Names of two projects, or notes spread over several projects (or mostly from
no project), give no project. The choice and its reason go into the pack's
receipt.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..search.terms import stems
from ..store.models import Project, ProjectAlias

HITS_CONSIDERED = 5
HIT_MAJORITY = 3

GIVEN, INFERRED, NONE = "given", "inferred", "none"


@dataclass(frozen=True)
class ProjectChoice:
    project: str | None
    source: str
    """given | inferred | none"""
    reason: str

    def to_dict(self) -> dict:
        return {"project": self.project, "source": self.source, "reason": self.reason}


def given(project: str) -> ProjectChoice:
    return ProjectChoice(project, GIVEN, "chosen by the caller")


def _pattern(name: str) -> re.Pattern:
    spelled = re.escape(name.lower()).replace(r"\-", r"[\- ]")
    return re.compile(rf"(?<![\w\-]){spelled}(?![\w\-])")


def project_names(cache: dict) -> list[tuple[str, str, re.Pattern]]:
    """(project, name, pattern) for every registered id and alias, cached while
    the registry is unchanged."""
    rows = [(p, p) for (p,) in Project.select(Project.id).tuples()]
    rows += list(ProjectAlias.select(ProjectAlias.project, ProjectAlias.alias).tuples())
    rows.sort()
    key = tuple(rows)
    cached = cache.get("project-names")
    if cached is None or cached[0] != key:
        cached = (key, [(project, name, _pattern(name)) for project, name in rows if name.strip()])
        cache["project-names"] = cached
    return cached[1]


def by_name(prompt: str, cache: dict) -> ProjectChoice | None:
    """A choice when the prompt names one or more projects; None when it names none."""
    text = prompt.lower()
    named: dict[str, str] = {}
    for project, name, pattern in project_names(cache):
        if project not in named and pattern.search(text):
            named[project] = name
    if not named:
        return None
    if len(named) > 1:
        listed = ", ".join(f"{p} ({n!r})" for p, n in sorted(named.items()))
        return ProjectChoice(None, NONE, f"the prompt names more than one project: {listed}")
    project, name = next(iter(named.items()))
    return ProjectChoice(project, INFERRED, f"the prompt names {project} ({name!r})")


def by_hits(prompt: str, hits: list[tuple[str, str]]) -> ProjectChoice:
    """From the best retrieved notes, best first, as ``(project, text)`` ("" = no
    project). A note votes only if it shares a word with the prompt: retrieval
    always returns something, and notes that merely sit nearest in meaning to
    an off-topic prompt ("espresso grinder burrs") are no evidence."""
    wanted = stems(prompt)
    top = hits[:HITS_CONSIDERED]
    votes = Counter(project for project, text in top if wanted & stems(text))
    if not votes:
        return ProjectChoice(None, NONE, "no project named and no retrieved note shares a word with the prompt"
                             if top else "no project named and no notes matched")
    leader, count = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))
    if leader and count >= HIT_MAJORITY:
        return ProjectChoice(leader, INFERRED, f"{count} of the top {len(top)} notes are from {leader}")
    if not leader and count >= HIT_MAJORITY:
        return ProjectChoice(None, NONE, f"no project named and {count} of the top {len(top)} notes "
                                         "belong to no project")
    spread = ", ".join(f"{p or 'no project'} {n}" for p, n in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])))
    return ProjectChoice(None, NONE, f"no project named and the top {len(top)} notes point to no one "
                                     f"project ({spread})")
