"""Per-tier budget bars: how much of its share each tier of a pack used.

Each bar is drawn against the whole budget: the tier's own share is the
lighter run (``tier-share``), what it used is the solid run (``tier-used``),
and use beyond its own share (budget carried over from earlier tiers) is
``tier-over``. Colours are theme variables, so every theme can set them.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ...context.budget import TIERS
from ...context.receipt import ContextPack


class TierBars(Widget):
    DEFAULT_CSS = """
    TierBars {
        height: auto;
        min-height: 6;
        padding: 0 1;
    }
    TierBars > .tier-bars--used { color: $tier-used; }
    TierBars > .tier-bars--share { color: $tier-share; }
    TierBars > .tier-bars--over { color: $tier-over; }
    TierBars > .tier-bars--empty { color: $tier-empty; }
    TierBars > .tier-bars--label { color: $foreground; }
    TierBars > .tier-bars--dim { color: $foreground 60%; }
    """
    COMPONENT_CLASSES = {"tier-bars--used", "tier-bars--share", "tier-bars--over",
                         "tier-bars--empty", "tier-bars--label", "tier-bars--dim"}

    pack: reactive[ContextPack | None] = reactive(None)

    LABEL_WIDTH = 19
    NUMBERS_WIDTH = 20

    def rows(self) -> list[dict]:
        """The bars as data: what tests and the help text read."""
        if self.pack is None:
            return []
        return [{"tier": t.number, "title": TIERS[t.number - 1].short, "share": t.share_chars, "used": t.used,
                 "allowance": t.allowance, "included": len(t.included), "considered": len(t.items)}
                for t in self.pack.tiers]

    def render(self) -> Text:
        if self.pack is None:
            return Text("Type a prompt to build a pack.", style=self.get_component_rich_style("tier-bars--dim"))
        style = self.get_component_rich_style
        width = max(10, self.size.width - self.LABEL_WIDTH - self.NUMBERS_WIDTH - 2)
        scale = max(self.pack.budget, 1)
        out = Text()
        for row in self.rows():
            used = min(width, round(width * row["used"] / scale))
            share = min(width, round(width * row["share"] / scale))
            own = min(used, share)
            over = used - own
            out.append(f"{row['tier']} {row['title'][:self.LABEL_WIDTH - 3]:<{self.LABEL_WIDTH - 2}}",
                       style("tier-bars--label"))
            out.append("█" * own, style("tier-bars--used"))
            out.append("█" * over, style("tier-bars--over"))
            out.append("▒" * max(0, share - used), style("tier-bars--share"))
            out.append("·" * max(0, width - max(used, share)), style("tier-bars--empty"))
            out.append(f" {row['used']:>5}/{row['share']:<5} {row['included']:>2}/{row['considered']:<2}\n",
                       style("tier-bars--dim"))
        out.append(f"{self.pack.total_chars} of {self.pack.budget} chars · "
                   f"{self.pack.budget_remaining} left · {len(self.pack.chunks)} chunks · "
                   f"{self.pack.duration_ms:.0f} ms", style("tier-bars--dim"))
        return out
