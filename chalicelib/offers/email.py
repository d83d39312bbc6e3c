"""Emailing a visitor their code through SES (sesv2), honouring the suppression list."""

from __future__ import annotations

from chalicelib.core.aws import ses
from chalicelib.core.errors import Invalid, Unavailable
from chalicelib.core.ids import InvalidEmail, normalize_email, subscriber_id_for
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings
from chalicelib.domain.money import to_decimal
from chalicelib.storage import subscribers


def describe_offer(code) -> str:
    """What a code (a `domain.coupons.CodeState`) gives, in words: "10% off", "5.50 USD off"."""
    terms = code.terms
    if terms.kind == "percent":
        return f"{terms.percent:g}% off"
    if terms.kind == "amount":
        return f"{to_decimal(terms.amount, terms.currency)} {terms.currency} off"
    return "free shipping"


def usable_address(address: str) -> str:
    try:
        return normalize_email(address)
    except InvalidEmail as error:
        raise Invalid("bad_email", "email is not a valid address") from error


def send_offer_email(address: str, coupon) -> bool:
    """False, without sending, when the address is suppressed (a bounce or a complaint)."""
    settings = get_settings()
    profile = subscribers.get_profile(subscriber_id_for(settings.subscriber_id_key, address))
    # The visitor asked for this one email, so a marketing opt-out does not stop it; an address
    # that bounced or complained (the suppression list) is never written to.
    if profile is not None and "email" in (profile.suppressed_channels or set()):
        return False
    if not settings.offer_email_from:
        raise Unavailable("email_unavailable", "emailing codes is not configured", retry_after=None)
    from botocore.exceptions import ClientError

    try:
        _send(settings.offer_email_from, address, coupon)
    except ClientError as error:  # a rejected sender or recipient: no retry will help
        logger.exception("SES refused an offer email")
        raise Unavailable(
            "email_unavailable", "the code could not be emailed; copy it instead", retry_after=None
        ) from error
    return True


def _send(sender: str, address: str, coupon) -> None:
    expires = coupon.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    text = f"Your code {coupon.code} gives you {describe_offer(coupon)}. It is valid until {expires}, online, in store and by phone."
    ses().send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [address]},
        Content={
            "Simple": {"Subject": {"Data": f"Your code: {describe_offer(coupon)}"}, "Body": {"Text": {"Data": text}}}
        },
    )
