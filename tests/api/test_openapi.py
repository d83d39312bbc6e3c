"""The checked-in OpenAPI description and the routes `app.py` declares are the same set."""

from pathlib import Path

import yaml

from app import app

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "post", "put", "delete", "patch"}


def test_every_route_is_described_and_every_description_is_a_route():
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    described = {(path, method.upper()) for path, item in spec["paths"].items() for method in item if method in METHODS}
    routed = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert described == routed


def test_public_routes_need_no_api_key_and_admin_routes_do():
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            # /reports/: a signed link is the credential (core.http.check_page_link), not the gateway's
            public = path.startswith(("/u/", "/offers/", "/demo/", "/cancel/", "/reports/")) or path == "/v1/engagement"
            assert (operation.get("security") == []) == public, (path, method)
