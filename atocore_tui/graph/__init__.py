"""The engineering graph: entities and relationships per project, their
lifecycle and audit, queries (map, impact, evidence, gaps), conflicts,
graduation of memories and alerts. ``engine.graph`` is the entry point
(:class:`atocore_tui.graph.service.GraphService`)."""
