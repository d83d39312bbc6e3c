"""ISO 4217 currency codes, for the offer rules (the table itself lives in domain.money)."""

from chalicelib.domain.money import ISO_4217, is_currency

__all__ = ["ISO_4217", "is_currency"]
