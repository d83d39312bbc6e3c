"""Emailing a visitor their code through SES (sesv2), honouring the suppression list."""

from __future__ import annotations

import os
from functools import lru_cache

from chalicelib.errors import BadRequest
from chalicelib.identity import InvalidEmail, normalize_email, subscriber_id_for
from chalicelib.settings import get_settings
from chalicelib.storage import subscribers


@lru_cache(maxsize=1)
def ses_client():
    import boto3

    return boto3.client("sesv2", endpoint_url=os.environ.get("SES_ENDPOINT") or None, region_name=get_settings().region)


def describe_offer(coupon) -> str:
    if coupon.kind == "percent":
        return f"{coupon.value:g}% off"
    if coupon.kind == "amount":
        return f"{coupon.value:g} {coupon.currency} off"
    return "free shipping"


def send_offer_email(address, coupon) -> None:
    try:
        address = normalize_email(address if isinstance(address, str) else "")
    except InvalidEmail as error:
        raise BadRequest("bad_email", "email is not a valid address") from error
    profile = subscribers.get_profile(subscriber_id_for(get_settings().subscriber_id_key, address))
    if profile is not None and "email" in (profile.suppressed_channels or set()):
        raise BadRequest("email_suppressed", "we cannot send email to this address", 409)
    sender = os.environ.get("OFFER_EMAIL_FROM")
    if not sender:
        raise BadRequest("email_unavailable", "emailing codes is not configured", 503)
    expires = coupon.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    text = f"Your code {coupon.code} gives you {describe_offer(coupon)}. It is valid until {expires}, online, in store and by phone."
    ses_client().send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [address]},
        Content={
            "Simple": {"Subject": {"Data": f"Your code: {describe_offer(coupon)}"}, "Body": {"Text": {"Data": text}}}
        },
    )
