"""Sites and their campaigns, read through a per-container cache: the decision path needs them
on every request, and they change rarely. Operators' changes (the kill switch included) apply
within `TTL_SECONDS`. A miss costs no extra round trip on the decision path: the site is read
in the same transactional read as the visitor's state."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from chalicelib.offers.campaigns import Campaign, parse_campaign
from chalicelib.storage import offers
from chalicelib.storage.offers import VisitorState

TTL_SECONDS = 10.0


@dataclass(frozen=True)
class CachedSite:
    site_key: str
    enabled: bool
    allowed_origins: tuple[str, ...]
    campaigns: tuple[Campaign, ...]


_sites: dict[str, tuple[float, CachedSite | None]] = {}  # unknown keys are cached too
_lock = threading.Lock()


def _from_item(site) -> CachedSite:
    return CachedSite(
        site_key=site.site_key,
        enabled=site.enabled,
        allowed_origins=tuple(site.allowed_origins or ()),
        campaigns=tuple(parse_campaign(raw) for raw in (site.campaigns or {}).values()),
    )


def _cached(site_key: str) -> tuple[bool, CachedSite | None]:
    loaded_at, entry = _sites.get(site_key, (None, None))
    if loaded_at is None or time.monotonic() - loaded_at > TTL_SECONDS:
        return False, None
    return True, entry


def _remember(site_key: str, site) -> CachedSite | None:
    entry = _from_item(site) if site is not None else None
    with _lock:
        _sites[site_key] = (time.monotonic(), entry)
    return entry


def site(site_key: str) -> CachedSite | None:
    hit, entry = _cached(site_key)
    return entry if hit else _remember(site_key, offers.get_site(site_key))


def site_and_visitor(site_key: str, visitor_id: str) -> tuple[CachedSite | None, VisitorState | None]:
    """One round trip: the visitor's state, and the site too when the cache has not got it."""
    hit, entry = _cached(site_key)
    item, visitor = offers.site_and_visitor(site_key, visitor_id, with_site=not hit)
    return (entry if hit else _remember(site_key, item)), visitor


def forget(site_key: str | None = None) -> None:
    with _lock:
        if site_key is None:
            _sites.clear()
        else:
            _sites.pop(site_key, None)
