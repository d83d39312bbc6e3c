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
            public = (
                path.startswith(("/u/", "/unsubscribe/", "/offers/", "/demo/", "/cancel/", "/reports/"))
                or path == "/v1/engagement"
            )
            assert (operation.get("security") == []) == public, (path, method)


def test_the_component_schemas_are_the_ones_the_contracts_generate():
    """openapi.yaml's generated block is what scripts/openapi_schemas.py writes from the models
    today: a model changed without regenerating (or a hand edit of the block) fails here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("openapi_schemas", ROOT / "scripts" / "openapi_schemas.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    text = (ROOT / "openapi.yaml").read_text()
    assert generator.rendered(text) == text, "run .venv/bin/python scripts/openapi_schemas.py"
    components = yaml.safe_load(text)["components"]["schemas"]
    for name in generator.contracts():
        assert name in components, name


def test_every_reference_names_a_component_that_exists():
    """A `$ref` to a missing component is silently skipped by clients and fuzzers: the three PATCH
    bodies named ListPatch, SitePatch and CampaignPatch, which patch_of had named after a field."""
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    found = []

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    missing = set()
    for ref in found:
        assert ref.startswith("#/"), ref
        target = spec
        for part in ref[2:].split("/"):
            if not isinstance(target, dict) or part not in target:
                missing.add(ref)
                break
            target = target[part]
    assert found and not missing, sorted(missing)


def test_a_patch_model_is_named_after_its_create_model():
    from chalicelib.offers.contracts import CampaignPatch, SitePatch
    from chalicelib.unsubscribe.contracts import ListPatch

    assert (ListPatch.__name__, SitePatch.__name__, CampaignPatch.__name__) == (
        "ListPatch",
        "SitePatch",
        "CampaignPatch",
    )
