"""Resolve a conflict: dismiss it, keep a winner (supersede the others), or keep it as is."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, RadioButton, RadioSet, Static

from ..widgets.key_footer import KeyFooter

ACTIONS = {
    "supersede_others": "supersede_others: keep one member, retire the others",
    "dismiss": "dismiss: this is not a conflict",
    "no_action": "no_action: a real conflict, keep it as it is",
}


class ResolveDialog(ModalScreen[tuple[str, str | None] | None]):
    """Returns ``(action, winner)``; the winner is a member id, only for supersede_others."""

    CSS_PATH = "graph.tcss"
    BINDINGS = [
        Binding("ctrl+s", "resolve", "Resolve", id="graph.resolve.confirm",
                tooltip="Apply the chosen resolution"),
        Binding("escape", "cancel", "Cancel", id="graph.resolve.cancel", tooltip="Close without resolving"),
    ]

    def __init__(self, conflict: dict) -> None:
        super().__init__()
        self.conflict = conflict
        self.members = conflict["members"]

    def compose(self) -> ComposeResult:
        subject = (self.conflict["subject"] or {}).get("name") or self.conflict["slot_key"]
        with Vertical(id="resolve-dialog"):
            yield Label(Content.assemble("Resolve the conflict of ", (subject, "bold")), id="resolve-title")
            yield Static(Content.styled(self.conflict["slot_kind"].replace("_", " ")
                                        + f" · {len(self.members)} members", "dim"))
            yield Label("Action", classes="resolve-label")
            with RadioSet(id="action"):
                for index, (action, label) in enumerate(ACTIONS.items()):
                    yield RadioButton(label, value=index == 0, id=f"action-{action}")
            yield Label("Winner (supersede_others only)", classes="resolve-label", id="winner-label")
            with RadioSet(id="winner"):
                for index, member in enumerate(self.members):
                    yield RadioButton(Content.assemble(member["name"], (f"  {member['id']}", "dim")),
                                      id=f"winner-{index}")
            yield Static("", id="resolve-problem")
            with Horizontal(id="resolve-buttons"):
                yield Button("Resolve", id="resolve", variant="primary")
                yield Button("Cancel", id="cancel")
            yield KeyFooter(dialog=True)

    def on_mount(self) -> None:
        self.query_one("#resolve-problem").display = False
        self.query_one("#action", RadioSet).focus()

    def chosen_action(self) -> str | None:
        pressed = self.query_one("#action", RadioSet).pressed_button
        return pressed.id.removeprefix("action-") if pressed and pressed.id else None

    def chosen_winner(self) -> str | None:
        pressed = self.query_one("#winner", RadioSet).pressed_button
        if pressed is None or not pressed.id:
            return None
        return self.members[int(pressed.id.removeprefix("winner-"))]["id"]

    def choose(self, action: str, winner: str | None = None) -> None:
        """Set the choice (keyboard users do this with the radio sets)."""
        self.query_one(f"#action-{action}", RadioButton).value = True
        if winner is not None:
            index = next(i for i, m in enumerate(self.members) if m["id"] == winner)
            self.query_one(f"#winner-{index}", RadioButton).value = True

    @on(RadioSet.Changed, "#action")
    def _action_changed(self) -> None:
        wanted = self.chosen_action() == "supersede_others"
        self.query_one("#winner", RadioSet).disabled = not wanted
        self.query_one("#winner-label").disabled = not wanted

    @on(Button.Pressed, "#resolve")
    def action_resolve(self) -> None:
        action = self.chosen_action()
        winner = self.chosen_winner() if action == "supersede_others" else None
        if action is None:
            self._problem("Choose an action.")
        elif action == "supersede_others" and winner is None:
            self._problem("Choose the winner: the member that stays.")
        else:
            self.dismiss((action, winner))

    def _problem(self, message: str) -> None:
        problem = self.query_one("#resolve-problem", Static)
        problem.update(Content(f"✗ {message}"))
        problem.display = True

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
