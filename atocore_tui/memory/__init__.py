"""Memories: the service (create/change/audit/undo, near-duplicates), the
review queue of candidates, reinforcement by use, and extraction of candidates
from interactions. One module per concern: ``vocab`` (types, statuses, checks),
``records`` (records, audit entries, answers), ``duplicates`` (duplicate
scoring), ``service``, ``review``, ``reinforcement``, ``extraction`` (cue
rules) and ``external`` (the external extractor command). Import from the
modules (``memory.service`` still re-exports the vocabulary, records and
scoring); the engine builds the services lazily as ``engine.memories`` and
``engine.review``."""
