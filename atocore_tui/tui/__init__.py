"""The Textual workstation (imports Textual; the engine never imports this)."""

from .app import AtoCoreApp, make_app

__all__ = ["AtoCoreApp", "make_app"]
