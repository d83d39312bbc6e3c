"""Demo data for local runs: two lists, a few subscribers, and a link to try."""

from __future__ import annotations

import contextlib

from chalicelib.core.errors import Conflict
from chalicelib.core.ids import subscriber_id_for
from chalicelib.core.settings import get_settings
from chalicelib.storage import lists
from chalicelib.unsubscribe.admin import add_subscriber
from chalicelib.unsubscribe.headers import build_headers

DEMO_LISTS = (
    ("newsletter", "The Offboard Weekly", {"sender_name": "Offboard Demo", "accent_color": "#1f5fbf"}),
    ("product-updates", "Product updates", {"sender_name": "Offboard Demo", "accent_color": "#2e7d32"}),
)
DEMO_PEOPLE = ("alice@example.com", "bob@example.com", "chai@example.co.th")
# Joined long ago, received plenty, never engaged: `cli sunset-run` emails them.
DEMO_INACTIVE = tuple(f"quiet{i}@example.com" for i in range(1, 4))
DEMO_ACTIVE_MEMBERS = 60  # enough members that the safety brake lets the demo run act


DEMO_CAMPAIGN = {
    "campaign_id": "come-back-10",
    "name": "10% to finish your order",
    "priority": 10,
    "targeting": {"paths": ["/demo/*"], "min_cart_value": 50, "currency": "USD"},
    "offer": {"kind": "percent", "value": 10, "expires_minutes": 15},
    "variants": [
        {
            "variant_id": "a",
            "weight": 1,
            "texts": {
                "headline": "Wait, 10% off",
                "body": "Finish your order in the next 15 minutes.",
                "cta": "Copy code",
            },
        },
        {
            "variant_id": "b",
            "weight": 1,
            "offer": {"kind": "free_shipping", "expires_minutes": 15},
            "texts": {
                "headline": "Shipping is on us",
                "body": "Free shipping if you order in the next 15 minutes.",
                "cta": "Copy code",
            },
        },
    ],
    "holdout": 0.1,
    "caps": {"cooldown_days": 1, "max_per_visitor": 3},
    "budget": {"total_codes": 1000, "codes_per_day": 200},
}


# What the snippet reacts to (chalicelib/offers/static/snippet.js), as the demo page says it too.
DEMO_SHOP_HOW = {
    "on_a_computer": "wait 2 seconds, then move the pointer out of the window through the top edge",
    "on_a_phone": "wait 2 seconds, scroll down the products, then flick quickly back up (or switch apps and come back);"
    " the phone must reach PUBLIC_BASE_URL, or use your browser's device mode with touch",
}


def seed_demo_site() -> dict:
    from chalicelib.offers import admin as site_admin

    settings = get_settings()
    if settings.ses_endpoint:
        # The local SES (moto) only sends from verified identities, as SES in its sandbox does.
        from chalicelib.core.aws import ses

        for sender in {settings.offer_email_from, settings.sunset_email_from} - {None}:
            with contextlib.suppress(Exception):
                ses().create_email_identity(EmailIdentity=sender)

    base_url = settings.public_base_url
    with contextlib.suppress(Conflict):
        site_admin.create_site("demo-shop", "Demo shop", [base_url])
    site_admin.put_campaign("demo-shop", DEMO_CAMPAIGN["campaign_id"], DEMO_CAMPAIGN)
    return {
        "site_key": "demo-shop",
        "demo_shop_page": f"{base_url}/demo/shop",
        "demo_shop_how": DEMO_SHOP_HOW,
    }


def seed_demo() -> dict:
    for list_id, name, branding in DEMO_LISTS:
        with contextlib.suppress(lists.ListExists):
            lists.create_list(list_id, name, branding=branding)
        for email in DEMO_PEOPLE:
            add_subscriber(list_id, email)
    seed_inactive_subscribers()
    settings = get_settings()
    alice = subscriber_id_for(settings.subscriber_id_key, DEMO_PEOPLE[0])
    built = build_headers(settings, alice, "newsletter", "demo-campaign")
    return {
        **seed_demo_site(),
        "lists": [list_id for list_id, _, _ in DEMO_LISTS],
        "subscribers": len(DEMO_PEOPLE),
        "open_in_a_browser": built.url,
        "one_click_like_gmail": f"curl -i -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click' '{built.url}'",
        "headers": built.headers,
    }


def seed_inactive_subscribers() -> None:
    from datetime import UTC, datetime, timedelta

    from chalicelib.storage import subscribers
    from chalicelib.storage.subscribers import AuditContext

    key = get_settings().subscriber_id_key
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=200)
    for email in DEMO_INACTIVE:
        sid = subscriber_id_for(key, email)
        # Joined long ago, due for the job today: its next run emails them.
        joined = subscribers.subscribe(sid, email, "newsletter", AuditContext("import"), long_ago, sunset_due=now)
        if joined == "subscribed":
            for n in range(12):
                subscribers.count_send(sid, "newsletter", f"demo-{sid}-{n}", long_ago)
    for i in range(DEMO_ACTIVE_MEMBERS):
        email = f"reader{i}@example.com"
        subscribers.subscribe(
            subscriber_id_for(key, email), email, "newsletter", AuditContext("import"), now, sunset_due=now
        )
