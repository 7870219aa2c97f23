"""The interaction log: every LLM round-trip, with reinforcement and extraction on record."""

from .log import InteractionLog, normalise_since

__all__ = ["InteractionLog", "normalise_since"]
