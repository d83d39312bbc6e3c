"""What we remember about one visitor for one exit-intent campaign, typed.

Stored inside the visitor's item as compact JSON (`offers`, `last`, `code`, `exp`, `variant`,
`arm`, `converted`, `dismissed`, `dismissed_at`, `never`; times as Unix seconds), read back as `CampaignVisit`. Free of PynamoDB, so
the offer rules use it without storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def _time(seconds) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _seconds(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


@dataclass(frozen=True)
class CampaignVisit:
    offers: int = 0
    last_offer_at: datetime | None = None
    code: str | None = None
    expires_at: datetime | None = None
    variant_id: str | None = None
    arm: str | None = None  # the variant or "holdout" the visitor was assigned
    converted: bool = False
    dismissals: int = 0  # how often the dialog was closed without taking the offer
    dismissed_at: datetime | None = None
    never: bool = False  # "don't show again"

    def offer_valid_at(self, now: datetime) -> bool:
        return bool(self.code and self.expires_at and self.expires_at > now)

    @classmethod
    def from_raw(cls, raw: dict) -> CampaignVisit:
        return cls(
            offers=int(raw.get("offers") or 0),
            last_offer_at=_time(raw.get("last")),
            code=raw.get("code"),
            expires_at=_time(raw.get("exp")),
            variant_id=raw.get("variant"),
            arm=raw.get("arm"),
            converted=bool(raw.get("converted")),
            dismissals=int(raw.get("dismissed") or 0),
            dismissed_at=_time(raw.get("dismissed_at")),
            never=bool(raw.get("never")),
        )

    def to_raw(self) -> dict:
        raw = {
            "offers": self.offers,
            "last": _seconds(self.last_offer_at),
            "code": self.code,
            "exp": _seconds(self.expires_at),
            "variant": self.variant_id,
            "arm": self.arm,
            "converted": self.converted or None,
            "dismissed": self.dismissals or None,
            "dismissed_at": _seconds(self.dismissed_at),
            "never": self.never or None,
        }
        return {k: v for k, v in raw.items() if v is not None}
