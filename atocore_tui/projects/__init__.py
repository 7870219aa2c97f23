"""Projects: the registry (ids, aliases, ingest roots) and trusted project state.

The registry is the one place where a project name that crosses a boundary is
resolved alias -> canonical id; project state is the highest-trust tier of a
context pack.
"""

from .registry import ProjectRegistry, is_slug, parse_root
from .state import CATEGORIES, ProjectStateService

__all__ = ["CATEGORIES", "ProjectRegistry", "ProjectStateService", "is_slug", "parse_root"]
