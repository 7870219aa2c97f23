"""Engine calls off the UI thread: the one way panes and their widgets make them.

:meth:`EngineCalls.run_engine` runs an engine call in a thread worker, inside a
connection of that thread, and hands the result back on the UI thread. A worker
of the same group started later cancels it (``exclusive``), and a cancelled
worker's result is dropped: that is how stale answers (a slow load overtaken by
a later choice) never reach the screen. A failure becomes a notification
(:meth:`AtoCoreApp.report_error`), never a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState, get_current_worker

if TYPE_CHECKING:
    from .app import AtoCoreApp

    _Node = DOMNode
else:
    _Node = object  # at run time the class it is mixed into supplies the node

T = TypeVar("T")


class TypedApp(_Node):
    """Mixed into a screen or widget of the workstation: ``self.app`` is an
    :class:`AtoCoreApp` to a type checker (at run time it is Textual's own)."""

    if TYPE_CHECKING:
        app: AtoCoreApp


class EngineCalls(TypedApp):
    """Mixed into a screen or widget that calls the engine."""

    def run_engine(self, call: Callable[[], T], done: Callable[[T], object] | None = None, *,
                   group: str, description: str, exclusive: bool = True) -> Worker[None]:
        """Run ``call`` (an engine call) in a thread worker; ``done(result)`` on the UI thread.

        With ``exclusive`` a later call of the same ``group`` on this node
        cancels this one, and the result of a cancelled call is dropped.
        """
        app = self.app
        engine = app.engine

        def job() -> None:
            with engine.db.connection_context():
                result = call()
            if done is not None:
                app.call_from_thread(_hand_back, get_current_worker(), done, result)

        return self.run_worker(job, group=group, description=description, exclusive=exclusive,
                               thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.report_error(event.worker.error, event.worker.description or event.worker.name)


def _hand_back(worker: Worker[Any], done: Callable[[T], object], result: T) -> None:
    """On the UI thread, where cancelling happens: no race with a later call."""
    if not worker.is_cancelled:
        done(result)
