"""An unsubscribe (or pause) that cannot be stored right now is never lost: it is queued (SQS,
with a dead-letter queue behind it) and applied later with the time it was asked for."""

from __future__ import annotations

from datetime import datetime

from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.storage import subscribers
from chalicelib.storage.subscribers import AuditContext


def defer(
    subscriber_id: str,
    list_id: str,
    ctx: AuditContext,
    at: datetime,
    everything: bool = False,
    pause_until: datetime | None = None,
) -> bool:
    """True when the request is safely queued."""
    url = get_settings().unsubscribe_queue_url
    if not url:
        return False
    from chalicelib.core.aws import send_messages

    message = {
        "subscriber_id": subscriber_id,
        "list_id": list_id,
        "everything": everything,
        "pause_until": pause_until.isoformat() if pause_until else None,
        "at": at.isoformat(),
        "context": {
            "source": ctx.source,
            "ip_hash": ctx.ip_hash,
            "user_agent": ctx.user_agent,
            "key_id": ctx.key_id,
            "campaign_id": ctx.campaign_id,
        },
    }
    try:
        send_messages(url, [message])
    except Exception:  # noqa: BLE001  (the caller answers 503 instead)
        logger.exception("could not queue a deferred unsubscribe")
        return False
    count("DeferredUnsubscribes")
    return True


def apply(message: dict) -> None:
    """Raises on failure, so the queue retries and, in the end, keeps it in the dead-letter queue."""
    ctx = AuditContext(**message["context"])
    at = datetime.fromisoformat(message["at"])
    try:
        if message.get("everything"):
            subscribers.unsubscribe_all(message["subscriber_id"], ctx, at)
        elif message.get("pause_until"):
            until = datetime.fromisoformat(message["pause_until"])
            subscribers.pause(message["subscriber_id"], message["list_id"], until, ctx, at)
        else:
            subscribers.unsubscribe(message["subscriber_id"], message["list_id"], ctx, at)
    except subscribers.UnknownList:
        logger.warning("deferred unsubscribe for a list that no longer exists", extra={"list_id": message["list_id"]})
