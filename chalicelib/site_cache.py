"""Sites and their campaigns, cached per Lambda container for a few seconds: the decision path
reads them on every request, and operators' changes (the kill switch included) apply within
`TTL_SECONDS`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from chalicelib.campaigns import Campaign, parse_campaign

TTL_SECONDS = 10.0


@dataclass(frozen=True)
class CachedSite:
    site_key: str
    enabled: bool
    allowed_origins: tuple[str, ...]
    campaigns: tuple[Campaign, ...]


_sites: dict[str, tuple[float, CachedSite | None]] = {}  # unknown keys are cached too
_lock = threading.Lock()


def from_item(site) -> CachedSite:
    return CachedSite(
        site_key=site.site_key,
        enabled=site.enabled,
        allowed_origins=tuple(site.allowed_origins or ()),
        campaigns=tuple(parse_campaign(raw) for raw in (site.campaigns or {}).values()),
    )


def cached(site_key: str) -> tuple[bool, CachedSite | None]:
    """(hit, site). A miss means: read the site from storage and `remember` it."""
    loaded_at, entry = _sites.get(site_key, (None, None))
    if loaded_at is None or time.monotonic() - loaded_at > TTL_SECONDS:
        return False, None
    return True, entry


def remember(site_key: str, site) -> CachedSite | None:
    entry = from_item(site) if site is not None else None
    with _lock:
        _sites[site_key] = (time.monotonic(), entry)
    return entry


def forget(site_key: str | None = None) -> None:
    with _lock:
        if site_key is None:
            _sites.clear()
        else:
            _sites.pop(site_key, None)
