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

from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

NBSP = "\u00a0"


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
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: list[tuple[object, Binding, bool]] = []

    def on_mount(self) -> None:
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
        return own + groups["widget"] + shared + groups["app"]

    def key_texts(self) -> list[str]:
        """``key description`` for each key shown (tests and docs read these)."""
        return [f"{self.app.get_key_display(b)} {b.description}" for _, b, _ in self.bindings()]

    def render(self) -> Content:
        self._shown = self.bindings()
        parts: list = []
        for index, (_namespace, binding, enabled) in enumerate(self._shown):
            key = self.app.get_key_display(binding)
            description = binding.description.replace(" ", NBSP)
            key_style = "bold $footer-key-foreground" if enabled else "$text-disabled"
            text_style = "" if enabled else "$text-disabled"
            if index:
                parts.append("  ")
            parts.append(Content.assemble((key.replace(" ", NBSP), key_style), NBSP,
                                          (description, text_style))
                         .stylize(f"@click=footer_key({index})"))
        return Content.assemble(*parts)

    async def action_footer_key(self, index: int) -> None:
        """A click on a key does what the key does."""
        if 0 <= index < len(self._shown):
            namespace, binding, enabled = self._shown[index]
            if enabled:
                await self.app.run_action(binding.action, namespace)
