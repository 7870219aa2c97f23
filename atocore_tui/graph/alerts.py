"""Alerts: things that need a human (a conflict, a failed ingestion of a root…).

Module functions over the bound :class:`~atocore_tui.store.models.Alert`
model so that any layer can raise one without holding the graph service;
call them inside the caller's transaction when the alert belongs to a write.
"""

from __future__ import annotations

from ..errors import NotFound, ValidationError
from ..store.models import Alert

LEVELS: tuple[str, ...] = ("info", "warning", "error")
MAX_LIST = 500


def alert_dict(alert: Alert) -> dict:
    return {"id": alert.id, "level": alert.level, "title": alert.title, "message": alert.message,
            "source": alert.source, "created_at": alert.created_at, "acknowledged": bool(alert.acknowledged)}


def raise_alert(level: str, title: str, message: str = "", source: str = "") -> dict:
    """Record an alert; ``source`` says who raised it (e.g. ``conflict:<id>``, ``ingest:vault``)."""
    level = str(level or "").strip().lower()
    if level not in LEVELS:
        raise ValidationError(f"unknown alert level {level!r}: use one of {', '.join(LEVELS)}")
    title = " ".join(str(title or "").split())
    if not title:
        raise ValidationError("alert title must not be blank")
    alert = Alert.create(level=level, title=title, message=str(message or ""), source=str(source or ""))
    return alert_dict(alert)


def list_alerts(*, include_acknowledged: bool = False, source: str | None = None,
                limit: int = 100) -> list[dict]:
    """Newest first; unacknowledged only unless asked."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_LIST}")
    query = Alert.select()
    if not include_acknowledged:
        query = query.where(Alert.acknowledged == False)  # noqa: E712 (SQL comparison)
    if source:
        query = query.where(Alert.source == source)
    return [alert_dict(a) for a in query.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)]


def acknowledge(alert_id) -> dict:
    """Mark one alert as seen; acknowledging twice is harmless."""
    try:
        key = int(alert_id)
    except (TypeError, ValueError):
        raise NotFound(f"unknown alert: {alert_id}") from None
    alert = Alert.get_or_none(Alert.id == key)
    if alert is None:
        raise NotFound(f"unknown alert: {alert_id}")
    if not alert.acknowledged:
        alert.acknowledged = True
        alert.save()
    return alert_dict(alert)


def acknowledge_source(source: str) -> int:
    """Acknowledge every open alert raised by ``source`` (e.g. a resolved conflict)."""
    return (Alert.update(acknowledged=True)
            .where((Alert.source == source) & (Alert.acknowledged == False))  # noqa: E712
            .execute())
