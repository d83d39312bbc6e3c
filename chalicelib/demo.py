"""Demo data for local runs: two lists, a few subscribers, and a link to try."""

from __future__ import annotations

import contextlib

from chalicelib.headers import build_headers
from chalicelib.identity import subscriber_id_for
from chalicelib.settings import get_settings
from chalicelib.storage import lists
from chalicelib.subscriber_admin import add_subscriber

DEMO_LISTS = (
    ("newsletter", "The Offboard Weekly", {"sender_name": "Offboard Demo", "accent_color": "#1f5fbf"}),
    ("product-updates", "Product updates", {"sender_name": "Offboard Demo", "accent_color": "#2e7d32"}),
)
DEMO_PEOPLE = ("alice@example.com", "bob@example.com", "chai@example.co.th")


def seed_demo() -> dict:
    for list_id, name, branding in DEMO_LISTS:
        with contextlib.suppress(lists.ListExists):
            lists.create_list(list_id, name, branding=branding)
        for email in DEMO_PEOPLE:
            add_subscriber(list_id, email)
    settings = get_settings()
    alice = subscriber_id_for(settings.subscriber_id_key, DEMO_PEOPLE[0])
    built = build_headers(settings, alice, "newsletter", "demo-campaign")
    return {
        "lists": [list_id for list_id, _, _ in DEMO_LISTS],
        "subscribers": len(DEMO_PEOPLE),
        "open_in_a_browser": built.url,
        "one_click_like_gmail": f"curl -i -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click' '{built.url}'",
        "headers": built.headers,
    }
