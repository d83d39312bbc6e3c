"""Emailing a visitor their code through SES (sesv2), honouring the suppression list."""

from __future__ import annotations

from chalicelib.core.aws import ses
from chalicelib.core.errors import Conflict, Invalid, Unavailable
from chalicelib.core.ids import InvalidEmail, normalize_email, subscriber_id_for
from chalicelib.core.settings import get_settings
from chalicelib.storage import subscribers


def describe_offer(coupon) -> str:
    if coupon.kind == "percent":
        return f"{coupon.value:g}% off"
    if coupon.kind == "amount":
        return f"{coupon.value:g} {coupon.currency} off"
    return "free shipping"


def send_offer_email(address, coupon) -> None:
    settings = get_settings()
    try:
        address = normalize_email(address if isinstance(address, str) else "")
    except InvalidEmail as error:
        raise Invalid("bad_email", "email is not a valid address") from error
    profile = subscribers.get_profile(subscriber_id_for(settings.subscriber_id_key, address))
    if profile is not None and "email" in (profile.suppressed_channels or set()):
        raise Conflict("email_suppressed", "we cannot send email to this address")
    if not settings.offer_email_from:
        raise Unavailable("email_unavailable", "emailing codes is not configured", retry_after=None)
    expires = coupon.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    text = f"Your code {coupon.code} gives you {describe_offer(coupon)}. It is valid until {expires}, online, in store and by phone."
    ses().send_email(
        FromEmailAddress=settings.offer_email_from,
        Destination={"ToAddresses": [address]},
        Content={
            "Simple": {"Subject": {"Data": f"Your code: {describe_offer(coupon)}"}, "Body": {"Text": {"Data": text}}}
        },
    )
