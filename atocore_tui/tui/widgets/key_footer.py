"""The footer: the keys of what is on screen, the pane's own first.

Textual's ``Footer`` rebuilds one widget per key on every bindings change
(each focus move, each pane switch), and in Textual 8.2 every rebuild leaves
its old keys referenced from the footer's ``compact`` data binding: memory
grew by ~26 widgets (~0.6 MB) per pane switch. This footer is one widget that
re-renders its text instead, so nothing accumulates.

Order: the pane's own keys, then those of the focused widget, then the app's
(help, quit). Pane switching keys live in the pane bar and the key help, not
here. The text wraps onto a second line rather than cutting a key off.
"""

from __future__ import annotations

from typing import cast

from textual.binding import Binding
from textual.content import Content
from textual.dom import DOMNode
from textual.events import Click
from textual.screen import Screen
from textual.widget import Widget


class KeyFooter(Widget):
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyFooter.-dialog {
        dock: none;
        margin-top: 1;
        padding: 0;
        background: transparent;
        color: $text-muted;
    }
    """

    def __init__(self, *, dialog: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dialog = dialog
        """In a dialog: its own keys only, as a hint line at the dialog's foot."""
        self._shown: list[tuple[object, Binding, bool]] = []
        self._spots: list[tuple[int, int, int, int]] = []

    def on_mount(self) -> None:
        self.set_class(self.dialog, "-dialog")
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh(layout=True)

    def bindings(self) -> list[tuple[object, Binding, bool]]:
        """(namespace, binding, enabled) in the order shown: what tests read."""
        screen = self.screen
        app = self.app
        seen_actions: set[tuple[int, str]] = set()
        groups: dict[str, list[tuple[object, Binding, bool]]] = {"screen": [], "widget": [], "app": []}
        for namespace, binding, enabled, _tooltip in screen.active_bindings.values():
            if not binding.show:
                continue
            action = (id(namespace), binding.action)
            if action in seen_actions:
                continue
            seen_actions.add(action)
            where = "screen" if namespace is screen else "app" if namespace is app else "widget"
            groups[where].append((namespace, binding, enabled))
        # keys every pane shares (reload) after the pane's own
        own = [b for b in groups["screen"] if not (b[1].id or "").startswith("pane.")]
        shared = [b for b in groups["screen"] if (b[1].id or "").startswith("pane.")]
        if self.dialog:
            return own + groups["widget"]
        return own + groups["widget"] + shared + groups["app"]

    def key_texts(self) -> list[str]:
        """``key description`` for each key shown (tests and docs read these)."""
        return [f"{self.app.get_key_display(b)} {b.description}" for _, b, _ in self.bindings()]

    def render(self) -> Content:
        content, self._shown, self._spots = self._layout(self.content_region.width)
        return content

    def get_content_height(self, container, viewport, width: int) -> int:
        content, _shown, _spots = self._layout(width)
        return max(1, len(content.split()))

    def _layout(self, width: int) -> tuple[Content, list, list[tuple[int, int, int, int]]]:
        """Keys laid out by hand, never split: a key that does not fit on the
        line goes to the next. Where each one lies is kept for clicks."""
        shown = self.bindings()
        width = max(width, 20)
        lines: list[list] = [[]]
        spots: list[tuple[int, int, int, int]] = []  # (line, start, end, index)
        column = 0
        for index, (_namespace, binding, enabled) in enumerate(shown):
            key = self.app.get_key_display(binding)
            text_len = len(key) + 1 + len(binding.description)
            gap = 2 if column else 0
            if column and column + gap + text_len > width:
                lines.append([])
                column, gap = 0, 0
            key_style = "bold $footer-key-foreground" if enabled else "$text-disabled"
            text_style = "" if enabled else "$text-disabled"
            if gap:
                lines[-1].append("  ")
            lines[-1] += [(key, key_style), " ", (binding.description, text_style)]
            spots.append((len(lines) - 1, column + gap, column + gap + text_len, index))
            column += gap + text_len
        return Content("\n").join(Content.assemble(*line) for line in lines), shown, spots

    async def on_click(self, event: Click) -> None:
        """A click on a key does what the key does."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for line, start, end, index in self._spots:
            if line == offset.y and start <= offset.x < end and index < len(self._shown):
                namespace, binding, enabled = self._shown[index]
                if enabled:
                    await self.app.run_action(binding.action, cast("DOMNode | None", namespace))
                return
