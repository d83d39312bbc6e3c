"""Money as integer minor units of an ISO 4217 currency; decimals only where money enters or
leaves the service (JSON numbers, Decimal strings).

`0.30 * 4 <= 1.20` is False in binary floating point; `30 * 4 <= 120` is not."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 alphabetic codes in use, without the fund, metal and testing codes X** (no shop
# prices an order in them), and the number of digits after the decimal point of each.
_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_CODES.split())
_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF"), 0),
    **dict.fromkeys(("UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


class MoneyError(ValueError):
    """A number that is no amount of this currency (too many decimals, not a number, unknown code)."""


def is_currency(value) -> bool:
    return isinstance(value, str) and value.upper() in ISO_4217


def exponent(currency: str) -> int:
    """Digits after the decimal point (ISO 4217): JPY 0, USD 2, BHD 3."""
    if not is_currency(currency):
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code")
    return _EXPONENTS.get(currency.upper(), 2)


def _exact(amount) -> Decimal:
    """The decimal a sender wrote: a float by its shortest repr (0.3 is "0.3")."""
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal | str):
        raise MoneyError(f"{amount!r} is not an amount")
    try:
        decimal = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    except InvalidOperation as error:
        raise MoneyError(f"{amount!r} is not an amount") from error
    if not decimal.is_finite():
        raise MoneyError(f"{amount!r} is not an amount")
    return decimal


def to_minor(amount, currency: str) -> int:
    """A decimal amount as it arrives (a JSON number, a Decimal, a decimal string) in minor units.
    A float is read by its shortest repr (0.3 is "0.3"), so what the sender wrote is what counts;
    more fraction digits than the currency has is refused, never rounded away."""
    decimal = _exact(amount)
    minor = decimal.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise MoneyError(f"{amount} has more decimals than {currency.upper()} has ({exponent(currency)})")
    return int(minor)


def at_least(amount, minimum: int, currency: str) -> bool:
    """Whether a decimal amount as it arrives (see `to_minor`) is at least `minimum` minor units of
    `currency`, compared exactly: a cart of 49.999 USD is not 50, and no float rounding decides."""
    decimal = _exact(amount)
    return decimal.scaleb(exponent(currency)) >= minimum


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(int(minor)).scaleb(-exponent(currency))


def to_number(minor: int, currency: str) -> int | float:
    """For a JSON answer: an int for a currency without decimals, else the float whose shortest
    repr is the exact decimal (2.5 for 250 cents)."""
    decimal = to_decimal(minor, currency)
    return int(decimal) if exponent(currency) == 0 else float(decimal)


def percent_of(minor: int, percent) -> int:
    """`percent` % of an amount in minor units, rounded half up to a whole minor unit."""
    share = Decimal(int(minor)) * Decimal(repr(percent) if isinstance(percent, float) else percent) / 100
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
