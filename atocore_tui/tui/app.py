"""The workstation: one Textual app, five panes (MODES), one engine.

:func:`make_app` is the one factory: the CLI and the tests both build the app
through it, around an engine on a real data directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import deque
from pathlib import Path

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.screen import ModalScreen

from ..config import Settings, load_settings
from ..engine import Engine
from ..errors import AtoCoreError
from .commands import EntityCommands, MemoryCommands, PaneCommands, ProjectCommands
from .first_run import FirstRunScreen
from .help import HelpScreen, binding_rows
from .screens.context import ContextScreen
from .screens.graph import GraphScreen
from .screens.interactions import InteractionsScreen
from .screens.projects import ProjectsScreen
from .screens.review import ReviewScreen
from .themes import BUNDLED_THEMES, TIER_VARIABLES, load_themes

DEFAULT_THEME = "atocore-dark"
UI_STATE_FILE = "workstation.json"
CHANGE_POLL_SECONDS = 1.0
KEY_SETTLE_SECONDS = 1.0
"""How long a key waits for the one before it to be handled (a safety net:
normally a few milliseconds; after this the key goes on regardless)."""


class AtoCoreApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "AtoCore"
    MODES = {
        "projects": ProjectsScreen,
        "context": ContextScreen,
        "review": ReviewScreen,
        "graph": GraphScreen,
        "interactions": InteractionsScreen,
    }
    DEFAULT_MODE = "context"
    BINDINGS = [
        Binding("p", "switch_mode('projects')", "Projects", id="pane.projects", show=False,
                tooltip="Projects: the registry, roots, refresh"),
        Binding("c", "switch_mode('context')", "Context", id="pane.context", show=False,
                tooltip="Context: preview the pack for a prompt"),
        Binding("r", "switch_mode('review')", "Review", id="pane.review", show=False,
                tooltip="Review: triage candidate memories"),
        Binding("g", "switch_mode('graph')", "Graph", id="pane.graph", show=False,
                tooltip="Graph: entities, impact, evidence, gaps, conflicts"),
        Binding("i", "switch_mode('interactions')", "Interactions", id="pane.interactions", show=False,
                tooltip="Interactions: the log of LLM round-trips"),
        Binding("question_mark,f1", "help", "Keys", id="app.help", tooltip="Show every key"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit the workstation"),
    ]
    COMMANDS = App.COMMANDS | {PaneCommands, ProjectCommands, MemoryCommands, EntityCommands}

    def __init__(self, engine: Engine, *, run_first_run: bool = True) -> None:
        self._key_target: MessagePump | None = None
        self._key_screen: MessagePump | None = None
        self._pending_keys: deque[events.Key | events.Paste] = deque()
        self._key_task: asyncio.Task | None = None
        self._ending_process = False
        self.data_token: int | None = None
        """The engine's change token as last polled (see :meth:`poll_changes`)."""
        self.engine = engine
        self.settings: Settings = engine.settings
        self.run_first_run = run_first_run
        self._semantic_running = False
        """Was a semantic pass running at the last look (then the header follows it each second)."""
        self.keymap_overrides = dict(self.settings.tui.keymap)
        super().__init__()
        themes, problems = load_themes(BUNDLED_THEMES, self.settings.tui.themes_dir)
        self.theme_problems: list[object] = list(problems)
        for theme in themes:
            self.register_theme(theme)
        wanted = self.settings.tui.theme or self._ui_state().get("theme") or DEFAULT_THEME
        if wanted not in self.available_themes:
            self.theme_problems.append(f"theme {wanted!r} is not available; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        self.theme = wanted

    # ----------------------------------------------------------------- state
    @property
    def ui_state_path(self) -> Path:
        return Path(self.engine.data_dir) / UI_STATE_FILE

    def _ui_state(self) -> dict:
        try:
            data = json.loads(self.ui_state_path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_ui_state(self, **values) -> None:
        state = self._ui_state() | values
        try:
            self.ui_state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        except OSError:
            pass

    def watch_theme(self, theme: str) -> None:
        if self.is_running:
            self._save_ui_state(theme=theme)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(TIER_VARIABLES)

    # --------------------------------------------------------------- startup
    def on_mount(self) -> None:
        self.data_token = self.engine.change_token()
        self.set_interval(CHANGE_POLL_SECONDS, self.poll_changes)
        self.show_semantic_progress()  # from the first paint, not a second later
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)
        for problem in self.theme_problems:
            self.notify(f"Theme skipped — {problem}", severity="warning", timeout=8)
        if self.run_first_run:
            self.check_first_run()
        self.warm_up()

    @work(thread=True, exit_on_error=False, group="warm-up", description="loading the embedding model")
    def warm_up(self) -> None:
        """Load the embedding model after the first paint (never before it), so
        the first pack does not wait for it; then the semantic vectors still
        missing are computed in a low-priority background thread."""
        self.engine.embedder.load()
        self.engine.start_semantic_pass(on_error=self._semantic_pass_failed)

    def _semantic_pass_failed(self, message: str) -> None:
        """Called from the pass's own thread."""
        self.call_from_thread(self.notify, message, title="Semantic vectors", severity="warning", timeout=10)

    @work(thread=True, exit_on_error=False, group="first-run", description="checking the data dir")
    def check_first_run(self) -> None:
        from ..ops.first_run import needs_first_run

        with self.engine.db.connection_context():
            needed = needs_first_run(self.engine)
        if needed:
            self.call_from_thread(self.push_screen, FirstRunScreen(), self._after_first_run)

    def _after_first_run(self, result: dict | None) -> None:
        if result:
            summary = result["ingest"]
            self.notify(f"Ingested {summary['ingested']} notes ({summary['chunks_added']} chunks); "
                        f"loaded {result['seeded']['memories']} memories, {result['seeded']['state']} "
                        f"state entries and the sample graph.", title="Ready")
        self.screen.refresh_pane() if hasattr(self.screen, "refresh_pane") else None

    # ------------------------------------------------------------------ keys
    async def on_event(self, event: events.Event) -> None:
        """Keys land in order, where the focus was when each was typed.

        Textual hands a key to the focused widget's queue and, if the widget
        does not use it, runs bindings when the key has bubbled back up to the
        app, behind every key typed meanwhile; a focus move (``widget.focus()``)
        waits in the app's queue behind them too. In a burst (a paste, a text
        expander, fast hands) a Tab or a pane key then took effect after the
        letters that followed it: ``alpha<Tab>al`` filled one field with
        ``alphaal``, and pane keys ended on the wrong pane.

        So keys (and pastes) from the terminal queue here and a task delivers
        them one at a time: text goes to the focused widget as before; any
        other key first waits until that widget has handled the text before
        it, then its binding runs at once, and the next key waits until what
        the binding started (a focus move, a pane switch, a dialog opening)
        has settled.
        """
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded and self.is_running:
            self.app_focus = True
            if isinstance(event, events.Key) and self._is_quit_key(event.key):
                self._pending_keys.clear()  # quitting does not wait for keys typed before it
                self.exit()
                return
            self._pending_keys.append(event)
            if self._key_task is None or self._key_task.done():
                self._key_task = asyncio.create_task(self._deliver_keys())
            return
        await super().on_event(event)

    def _is_quit_key(self, key: str) -> bool:
        if not key.startswith("ctrl+"):
            return False
        active = self.screen.active_bindings.get(key)
        return active is not None and active.binding.action in ("quit", "app.quit") and active.enabled

    async def wait_for_keys(self) -> None:
        """Wait until every key typed so far has been delivered (tests, benches)."""
        await self._settle(self)  # keys still in the app's queue reach the key queue
        while self._key_task is not None and not self._key_task.done():
            await asyncio.shield(self._key_task)

    async def _deliver_keys(self) -> None:
        while self._pending_keys and self._running:
            event = self._pending_keys.popleft()
            try:
                await self._deliver_key(event)
            except Exception as error:  # as Textual does for a failing action
                self._handle_exception(error)
                return

    async def _deliver_key(self, event: events.Key | events.Paste) -> None:
        screen = self.screen
        if screen is not self._key_screen:
            await self._settle_screen()
            screen = self.screen
        target = self.focused or screen
        if (isinstance(event, events.Paste) or screen.maximized is not None
                or target.check_consume_key(event.key, event.character)):
            self._key_target = target
            await super().on_event(event)
            return
        if self._key_target is not None:
            await self._settle(self._key_target)
            self._key_target = None
        if await self._check_bindings(event.key, priority=True) or await self._check_bindings(event.key):
            await self._settle(self)
            if self.screen is not screen:
                await self._settle_screen()
            return
        target = self.focused or self.screen
        self._key_target = target
        target._forward_event(event)

    async def _settle_screen(self) -> None:
        """Wait for a new screen to be ready: mounted, and its focus set (its
        ``focus()`` calls go through the app's queue)."""
        await self._settle(self.screen)
        await self._settle(self)
        self._key_screen = self.screen

    async def _settle(self, node: MessagePump) -> None:
        """Wait until ``node`` has handled every message queued so far."""
        done = asyncio.get_running_loop().create_future()

        def mark() -> None:
            if not done.done():
                done.set_result(None)

        if not node.call_later(mark):
            return
        try:
            await asyncio.wait_for(done, KEY_SETTLE_SECONDS)
        except TimeoutError:
            pass

    # ------------------------------------------------------------------- run
    def run(self, *args, **kwargs):
        """Run the workstation on the terminal, then end the process at once.

        Quitting used to take 2 s and the process lingered seconds more after
        the screen cleared: Python's own teardown of Textual, numpy and the
        index (~1 s here) and any worker thread still running. Once the
        terminal is restored nothing is left to do: the database is closed
        (SQLite rolls back anything unfinished) and the process exits with the
        app's return code. Headless or driven runs (tests, snapshots) return
        normally.
        """
        if kwargs.get("headless") or kwargs.get("auto_pilot") is not None:
            return super().run(*args, **kwargs)
        self._ending_process = True
        try:
            super().run(*args, **kwargs)
        finally:
            self.engine.close()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(self.return_code or 0)

    async def _close_all(self) -> None:
        # Taking every pane's widgets apart one by one (~0.5 s) is wasted when
        # the process ends right after: the terminal is restored all the same.
        if not self._ending_process:
            await super()._close_all()

    # --------------------------------------------------------------- changes
    def poll_changes(self) -> None:
        """Every second: has anyone committed to the database? Then the pane on
        screen (under any dialog) reloads; the others when they come back."""
        try:
            token = self.engine.change_token()
        except Exception:  # a database being replaced or locked: next time
            return
        if self._semantic_running or self.engine.semantic.running:
            self.show_semantic_progress()  # the header follows a pass (in any process) while it runs
        if token == self.data_token:
            return
        self.data_token = token
        self.engine.start_semantic_pass(on_error=self._semantic_pass_failed)  # new chunks? (no-op otherwise)
        self.show_semantic_progress()
        if self._current_mode in self._screen_stacks:
            stack = self._screen_stacks[self._current_mode]
            pane = stack[0] if stack else None
            if pane is not None and hasattr(pane, "follow_changes") and pane.is_mounted:
                pane.follow_changes(token)

    def show_semantic_progress(self) -> None:
        """The header says how far the semantic pass is while chunks lack their
        semantic vectors (retrieval scores them with the static model until then).
        Read at mount, after a change and while this process's pass runs: an
        idle workstation reads nothing for it."""
        try:
            with self.engine.db.connection_context():
                progress = self.engine.semantic_progress()
        except Exception:  # a database being replaced: next time
            return
        self._semantic_running = bool(progress.get("running"))
        if not progress.get("enabled") or progress["complete"] or not progress["total"]:
            text = ""
        else:
            rate = f", {progress['chunks_per_s']:.0f}/s" if progress.get("chunks_per_s") else ""
            text = (f"semantic vectors {progress['covered']}/{progress['total']}{rate}"
                    + ("" if progress["running"] else " (paused)"))
        if self.sub_title != text:
            self.sub_title = text

    # ---------------------------------------------------------------- errors
    def report_error(self, error: BaseException | None, what: str = "") -> None:
        """Every failure a pane meets ends here: a notification, never a crash."""
        if error is None:
            return
        message = str(error) if isinstance(error, AtoCoreError) else f"{type(error).__name__}: {error}"
        self.notify(message, title=f"Could not finish {what}" if what else "Error",
                    severity="error", timeout=10)

    # --------------------------------------------------------------- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pane keys do nothing while a dialog is open (it must be answered first)."""
        if action == "switch_mode" and isinstance(self.screen, ModalScreen):
            return False
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen(binding_rows(self)))

    def open_item(self, kind: str, ref: str) -> None:
        """Show a project, memory, entity, chunk or interaction in the pane that owns it."""
        mode = {"project": "projects", "memory": "review", "entity": "graph", "chunk": "context",
                "interaction": "interactions"}.get(kind, "context")

        def show() -> None:
            screen = self.screen
            if hasattr(screen, "show_item"):
                screen.show_item(kind, ref)

        self.switch_mode(mode)
        self.call_after_refresh(show)


def make_app(settings: Settings | None = None, *, engine: Engine | None = None,
             run_first_run: bool = True) -> AtoCoreApp:
    """The one way to build the workstation (CLI and tests)."""
    if engine is None:
        engine = Engine(settings or load_settings())
    return AtoCoreApp(engine, run_first_run=run_first_run)
