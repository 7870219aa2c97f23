"""Memories: the service (create/change/audit/undo, near-duplicates), the
review queue of candidates, reinforcement by use, and extraction of candidates
from interactions. Import from the modules (``memory.service`` …); the engine
builds the services lazily as ``engine.memories`` and ``engine.review``."""
