"""One receipt row in full (Context pane, enter on a row): what the item says,
its score, source and why it was left out, with the budget arithmetic."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ...context import format as fmt
from ...context.budget import TIERS
from ...context.receipt import OVER_BUDGET, ContextPack, PackItem, TierReceipt
from ..widgets.key_footer import KeyFooter


def budget_left(pack: ContextPack, tier: TierReceipt, item: PackItem) -> dict:
    """The arithmetic behind "over budget", walked as the builder fills a tier:
    the tier's allowance, its block's header and footer, the items before."""
    index = tier.number - 1
    separator = len(fmt.SEPARATOR) if any(t.used for t in pack.tiers[:index]) else 0
    overhead = separator + fmt.block_overhead(TIERS[index], pack.project)
    before = 0
    for other in tier.items:
        if other is item:
            break
        if other.included or other.reason == "trimmed: pack over budget":
            before += other.chars
    left = tier.allowance - overhead - before
    return {"allowance": tier.allowance, "share": tier.share_chars, "overhead": overhead,
            "before": before, "left": left}


def short_reason(pack: ContextPack, tier: TierReceipt, item: PackItem) -> str:
    """The receipt row's "why left out": for over budget, how far off it was."""
    if item.reason != OVER_BUDGET:
        return item.reason or ""
    numbers = budget_left(pack, tier, item)
    return f"over budget: {item.chars} > {max(numbers['left'], 0)} left"


def long_reason(pack: ContextPack, tier: TierReceipt, item: PackItem) -> str:
    if item.included:
        return "included in the pack"
    if item.reason != OVER_BUDGET:
        return item.reason or ""
    n = budget_left(pack, tier, item)
    return (f"over budget: the item needs {item.chars} chars. Tier {tier.number} may use {n['allowance']} "
            f"(its share of {n['share']} plus what earlier tiers left unused); its block's header, footer "
            f"and separator take {n['overhead']} and the items before it {n['before']}, leaving "
            f"{max(n['left'], 0)}.")


class ReceiptItemScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="context.item.close",
                        tooltip="Close the item")]
    DEFAULT_CSS = """
    ReceiptItemScreen { align: center middle; }
    ReceiptItemScreen > Vertical {
        width: 90%; max-width: 120; height: 80%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ReceiptItemScreen #item-keys { dock: bottom; color: $text-muted; }
    """

    def __init__(self, pack: ContextPack, tier: TierReceipt, item: PackItem) -> None:
        super().__init__()
        self.pack, self.tier, self.item = pack, tier, item

    def compose(self) -> ComposeResult:
        item, tier = self.item, self.tier
        status = ("✓ included", "bold $success") if item.included else ("left out", "bold $warning")
        parts: list = [(item.label, "bold"), "\n",
                       (f"tier {tier.number} · {TIERS[tier.number - 1].title}", "$accent"), " · ", item.kind,
                       f" · score {item.score:.3f} · {item.chars} chars · ", status, "\n",
                       ("why: ", "dim"), long_reason(self.pack, tier, item), "\n",
                       ("id: ", "dim"), item.ref]
        for key, value in item.data.items():
            parts += ["\n", (f"{key}: ", "dim"), str(value)]
        with Vertical():
            yield Static(Content.assemble(*parts), id="item-head")
            with VerticalScroll(id="item-body"):
                yield Static(Content(item.text or "(no text)"), id="item-text")
            yield KeyFooter(dialog=True, id="item-keys")
