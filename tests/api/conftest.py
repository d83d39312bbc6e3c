import json
import os
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from chalice.test import Client

from app import app
from tests.helpers import install_moto_tables, moto_tables

ADMIN = {"X-Api-Key": "dev-admin-key", "Content-Type": "application/json"}


class Api:
    """The service through `chalice.test.Client`, with the admin key and a few shortcuts."""

    def __init__(self, client):
        self.http = client.http

    def admin(self, method, path, body=None, headers=None):
        payload = json.dumps(body).encode() if body is not None else b""
        return self.http.request(method, path, headers={**ADMIN, **(headers or {})}, body=payload)

    def link(self, email, list_id="newsletter", campaign_id=None) -> str:
        body = {"email": email, "list_id": list_id, **({"campaign_id": campaign_id} if campaign_id else {})}
        response = self.admin("POST", "/v1/unsubscribe-headers", body)
        assert response.status_code == 200, response.body
        return urlsplit(response.json_body["unsubscribe_url"]).path

    def events(self, subscriber_id):
        response = self.admin("GET", f"/v1/subscribers/{subscriber_id}/consent")
        return [json.loads(line) for line in response.body.decode().splitlines()]

    def allowed(self, email, list_id="newsletter", channel="email"):
        response = self.admin(
            "POST", "/v1/send-check", {"list_id": list_id, "channel": channel, "recipients": [{"email": email}]}
        )
        return response.json_body["recipients"][0]


# The lists and people every API test starts with, seeded through the API once per environment
# and UTC day (what the seeding writes depends on both: keys, settings, dates) and copied into
# each test's tables from then on.
_seeded: dict[tuple, dict] = {}


def _seed(api: Api) -> None:
    for list_id, name in (("newsletter", "The Weekly"), ("promo", "Promotions")):
        assert (
            api.admin(
                "POST", "/v1/lists", {"list_id": list_id, "name": name, "branding": {"accent_color": "#aa3300"}}
            ).status_code
            == 201
        )
        for email in ("alice@example.com", "bob@example.com"):
            assert api.admin("POST", f"/v1/lists/{list_id}/subscribers", {"email": email}).status_code == 201


@pytest.fixture
def api(aws):
    with Client(app) as client:
        api = Api(client)
        environment = frozenset((k, v) for k, v in os.environ.items() if not k.startswith("PYTEST_"))
        key = (environment, datetime.now(UTC).date())
        if key in _seeded:
            install_moto_tables(_seeded[key])
        else:
            _seed(api)
            _seeded[key] = moto_tables()
        yield api


def subscriber_of(path: str) -> str:
    return path.split("/")[2].split(".")[1]
