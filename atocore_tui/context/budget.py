"""The tiers of a context pack and the budget arithmetic: written once.

Tiers are filled in trust order; each gets its share of the budget plus
whatever the tiers before it left unused; the last tier gets the rest. When the
assembled pack is still over budget, items are trimmed in reverse trust order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    number: int
    key: str
    title: str
    share: float | None
    """Fraction of the budget; ``None`` = whatever is left (the last tier)."""
    short: str = ""
    """A title for narrow places (bars, tables)."""


TIERS: tuple[Tier, ...] = (
    Tier(1, "project_state", "Project state", 0.20, "Project state"),
    Tier(2, "identity_preference", "Identity and preferences", 0.05, "Identity, prefs"),
    Tier(3, "project_memories", "Project memories", 0.25, "Project memories"),
    Tier(4, "domain_knowledge", "Domain knowledge", 0.10, "Domain knowledge"),
    Tier(5, "engineering", "Engineering context", 0.10, "Engineering"),
    Tier(6, "chunks", "Retrieved notes", None, "Retrieved notes"),
)
TIER_BY_KEY = {tier.key: tier for tier in TIERS}
TRIM_ORDER = tuple(reversed(TIERS))
"""Chunks first, project state last."""


def share_chars(tier: Tier, budget: int) -> int:
    """The characters a tier is promised before carry-over."""
    if tier.share is None:
        fixed = sum(int(t.share * budget) for t in TIERS if t.share is not None)
        return max(0, budget - fixed)
    return int(tier.share * budget)


def allowance(tier: Tier, budget: int, used_before: int, promised_before: int) -> int:
    """What a tier may use: its share plus what earlier tiers left unused.

    The last tier simply gets everything not yet used.
    """
    if tier.share is None:
        return max(0, budget - used_before)
    return max(0, share_chars(tier, budget) + promised_before - used_before)
