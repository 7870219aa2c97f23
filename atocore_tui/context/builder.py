"""The context-pack builder: the most trusted, most relevant material that fits.

``ContextBuilder.build(prompt, project, budget)`` gathers candidates for each of
the six tiers (see :mod:`.budget`), ranks them by relevance to the prompt,
fills the tiers in trust order within their allowances, trims in reverse trust
order if the assembled text is still over budget, and returns the pack with its
receipt. The last pack is kept in memory and in ``<data_dir>/last_pack.json``
so that another process (the server's ``/debug/context``) can show it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import NotFound, ValidationError
from ..store.models import Interaction, utc_now
from . import format as fmt
from .budget import TIERS, TRIM_ORDER, Tier, allowance, share_chars
from .candidates import ENTITY_DEPENDENT, TierCandidates, gather
from .receipt import (
    NEEDS_ENTITY,
    OVER_BUDGET,
    TRIMMED,
    ContextPack,
    PackItem,
    TierReceipt,
    diff_packs,
)

if TYPE_CHECKING:
    from ..engine import Engine

MAX_BUDGET = 2_000_000
LAST_PACK_FILE = "last_pack.json"


def validate_budget(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"budget must be a whole number of characters, got {value!r}")
    if not 0 <= value <= MAX_BUDGET:
        raise ValidationError(f"budget must be between 0 and {MAX_BUDGET:,} characters, got {value}")
    return value


def unknown_hint_warning(project) -> str:
    return (f"unknown project {project!r}: used as a free-text hint, so no project's state, "
            "memories or notes were preferred")


DEBUG_TIERS = (("project_state", "project_state_chars", "has_project_state"),
               ("identity_preference", "memory_chars", "has_memories"),
               ("project_memories", "project_memory_chars", "has_project_memories"),
               ("domain_knowledge", "domain_knowledge_chars", "has_domain_knowledge"),
               ("engineering", "engineering_context_chars", "has_engineering_context"))


def debug_fields(pack: dict) -> dict:
    """The original service's summary of a pack (its ``/debug/context`` keys),
    from a pack's dict form: characters and presence per section, and each
    chunk with ``char_count`` and ``content_preview``."""
    tiers = {t.get("key"): t for t in pack.get("tiers", [])}
    fields: dict = {"query": pack.get("prompt", ""),
                    "project_hint": pack.get("project_hint") or pack.get("project") or ""}
    for key, chars, has in DEBUG_TIERS:
        tier = tiers.get(key, {})
        fields[chars] = int(tier.get("used", 0))
        fields[has] = bool(tier.get("included", 0))
    fields["duration_ms"] = int(pack.get("duration_ms") or 0)
    fields["chunks"] = [{**c, "score": float(c.get("score", 0.0)), "char_count": len(c.get("content") or ""),
                         "content_preview": (c.get("content") or "")[:100]} for c in pack.get("chunks", [])]
    return fields


class ContextBuilder:
    """``engine.context``: builds, keeps and replays context packs."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.last: ContextPack | None = None
        self.cache: dict = {}
        """Embedded and indexed texts per view, valid while their rows are unchanged."""

    # ---------------------------------------------------------------- build
    def build(self, prompt: str, project: str | None = None, budget: int | None = None, *,
              keep: bool = True, unknown_project_as_hint: bool = False) -> ContextPack:
        """Build a pack; ``keep`` makes it the last pack shown for inspection.

        ``unknown_project_as_hint``: a project name nobody uses is not refused
        but scopes nothing (the original service's free-text hint); the pack
        says so in ``warnings``.
        """
        started = time.perf_counter()
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValidationError("prompt must not be blank")
        budget = validate_budget(self.engine.settings.context.budget if budget is None else budget)
        warnings: list[str] = []
        try:
            given = self.engine.resolve_project(project)
        except NotFound:
            if not unknown_project_as_hint:
                raise
            given = None
            warnings.append(unknown_hint_warning(project))
        candidates, choice = gather(self.engine, prompt, given, self.cache)
        canonical = choice.project
        receipts = self._fill(candidates, canonical, budget)
        formatted = self._trim(receipts, canonical, budget)
        pack = ContextPack(
            prompt=prompt, project=canonical, budget=budget, formatted_context=formatted,
            full_prompt=fmt.full_prompt(formatted, prompt), tiers=receipts,
            duration_ms=(time.perf_counter() - started) * 1000, built_at=utc_now(),
            project_choice=choice.to_dict(),
            project_hint="" if project is None else str(project), warnings=warnings)
        if keep:
            self._keep(pack)
        return pack

    def _fill(self, candidates: dict[str, TierCandidates], project: str | None,
              budget: int) -> list[TierReceipt]:
        receipts: list[TierReceipt] = []
        used_before = promised_before = 0
        for tier in TIERS:
            allowed = allowance(tier, budget, used_before, promised_before)
            receipt = TierReceipt(tier.number, tier.key, tier.title, tier.share,
                                  share_chars(tier, budget), allowed)
            receipt.items = candidates[tier.key].items
            receipt.not_considered = candidates[tier.key].not_considered
            separator = len(fmt.SEPARATOR) if used_before else 0
            receipt.used = self._select(tier, receipt.items, project, allowed, separator)
            receipts.append(receipt)
            used_before += receipt.used
            promised_before += receipt.share_chars
        return receipts

    @staticmethod
    def _select(tier: Tier, items: list[PackItem], project: str | None, allowed: int,
                separator: int) -> int:
        """Take eligible items in rank order while they fit; returns chars used."""
        cost = separator + fmt.block_overhead(tier, project)
        taken = 0
        entity_missing = False
        for item in items:
            if item.reason is not None:
                continue
            if item.kind in ENTITY_DEPENDENT and entity_missing:
                item.reason = NEEDS_ENTITY
                continue
            if cost + item.chars <= allowed:
                item.included = True
                cost += item.chars
                taken += 1
            else:
                item.reason = OVER_BUDGET
                entity_missing = entity_missing or item.kind == "entity"
        return cost if taken else 0

    def _trim(self, receipts: list[TierReceipt], project: str | None, budget: int) -> str:
        """Assemble the text; while over budget drop items, least trusted tier first."""
        by_key = {r.key: r for r in receipts}
        while True:
            text = self._assemble(receipts, project)
            if len(text) <= budget:
                return text
            for tier in TRIM_ORDER:
                included = by_key[tier.key].included
                if included:
                    victim = included[-1]
                    victim.included, victim.reason = False, TRIMMED
                    if victim.kind == "entity":
                        for item in by_key[tier.key].included:
                            item.included, item.reason = False, NEEDS_ENTITY
                    self._recount(receipts, project)
                    break
            else:
                return ""

    @staticmethod
    def _recount(receipts: list[TierReceipt], project: str | None) -> None:
        """Chars used per tier after a trim, counted as :meth:`_select` counts them."""
        any_before = False
        for tier, receipt in zip(TIERS, receipts, strict=True):
            items = receipt.included
            if not items:
                receipt.used = 0
                continue
            receipt.used = (len(fmt.SEPARATOR) if any_before else 0) + fmt.block_overhead(
                tier, project) + sum(i.chars for i in items)
            any_before = True

    @staticmethod
    def _assemble(receipts: list[TierReceipt], project: str | None) -> str:
        blocks = [fmt.block(tier, project, [i.text for i in r.included])
                  for tier, r in zip(TIERS, receipts, strict=True) if r.included]
        if not blocks:
            return fmt.NO_CONTEXT
        return fmt.join_blocks(blocks)

    # ----------------------------------------------------------------- keep
    @property
    def last_pack_path(self) -> Path:
        return self.engine.data_dir / LAST_PACK_FILE

    def _keep(self, pack: ContextPack) -> None:
        self.last = pack
        tmp = self.last_pack_path.with_name(f"{LAST_PACK_FILE}.tmp{os.getpid()}")
        try:
            tmp.write_text(json.dumps(pack.to_dict(), ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.last_pack_path)
        except OSError:
            pass  # inspection aid only: a read-only data dir must not fail a build

    def last_pack(self) -> dict:
        """The last pack built by any process on this data dir."""
        try:
            return json.loads(self.last_pack_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            if self.last is not None:
                return self.last.to_dict()
            raise NotFound("no context pack has been built yet") from None

    # --------------------------------------------------------------- replay
    def replay(self, interaction_id: str) -> dict:
        """Rebuild an interaction's recorded pack against today's data and diff it."""
        interaction = Interaction.get_or_none(Interaction.id == str(interaction_id))
        if interaction is None:
            raise NotFound(f"unknown interaction: {interaction_id}")
        old = interaction.context_pack
        if not isinstance(old, dict) or "tiers" not in old:
            raise ValidationError(f"interaction {interaction_id} has no recorded context pack")
        budget = old.get("budget")
        budget = budget if isinstance(budget, int) and not isinstance(budget, bool) else None
        project = old.get("project") or interaction.project or None
        if (old.get("project_choice") or {}).get("source") == "inferred":
            project = None  # inferred again from today's data, as the original was
        try:
            self.engine.resolve_project(project)
        except NotFound:
            project = None
        new = self.build(old.get("prompt") or interaction.prompt, project, budget, keep=False).to_dict()
        return {"interaction_id": interaction.id, "recorded_at": old.get("built_at"),
                "rebuilt_at": new["built_at"], "budget": new["budget"],
                "changes": diff_packs(old, new), "pack": new}
