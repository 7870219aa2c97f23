"""The Review pane's undo: this session's decisions, newest last."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Decision:
    """One step: a verb and every memory it touched (a bulk decision is one step)."""

    verb: str
    memory_ids: list[str]


class UndoStack:
    """Undo walks back the decisions, newest first, across memories."""

    def __init__(self) -> None:
        self._steps: list[Decision] = []

    def push(self, verb: str, memory_ids: list[str]) -> None:
        self._steps.append(Decision(verb, list(memory_ids)))

    def pop(self) -> Decision | None:
        return self._steps.pop() if self._steps else None

    def __len__(self) -> int:
        return len(self._steps)
