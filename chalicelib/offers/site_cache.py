"""Sites and their campaigns, read through a per-container cache: the decision path needs them
on every request, and they change rarely.

On the decision path every read of the visitor's state also reads the site's version item (one
transactional read): a container whose cached version is older reloads the site, so an
operator's change (the kill switch) applies to the very next decision in every container, at
no extra round trip while nothing changes. A miss reads the site with the visitor. Other
paths (events, emails, conversions) trust the cache for `TTL_SECONDS`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from chalicelib.offers.campaigns import Campaign, build_campaign
from chalicelib.storage import offers
from chalicelib.storage.offers import VisitorState

TTL_SECONDS = 10.0


@dataclass(frozen=True)
class CachedSite:
    site_key: str
    enabled: bool
    allowed_origins: tuple[str, ...]
    campaigns: tuple[Campaign, ...]
    version: int = 0
    secrets: tuple[str, ...] = ()  # identity verification: customer ids are signed with one of these


_sites: dict[str, tuple[float, CachedSite | None]] = {}  # unknown keys are cached too
_lock = threading.Lock()


def _from_item(site) -> CachedSite:
    return CachedSite(
        site_key=site.site_key,
        enabled=site.enabled,
        allowed_origins=tuple(site.allowed_origins or ()),
        campaigns=tuple(build_campaign(raw) for raw in (site.campaigns or {}).values()),
        version=int(site.version or 0),
        secrets=tuple(site.secrets or ()),
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
    """One round trip while the site is unchanged: the visitor's state with the site's version
    (or with the site itself when this container has none cached)."""
    loaded_at, entry = _sites.get(site_key, (None, None))
    if entry is None:
        item, visitor = offers.site_and_visitor(site_key, visitor_id, with_site=True)
        return _remember(site_key, item), visitor
    visitor, version = offers.visitor_and_site_version(site_key, visitor_id)
    if version != entry.version:
        entry = _remember(site_key, offers.get_site(site_key))  # changed since cached: reload
    return entry, visitor


def forget(site_key: str | None = None) -> None:
    with _lock:
        if site_key is None:
            _sites.clear()
        else:
            _sites.pop(site_key, None)
