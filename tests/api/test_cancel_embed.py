"""The embed option's server side: a flow lists the origins whose pages may frame the hosted flow;
the pages say so in their CSP `frame-ancestors` (and refuse every frame otherwise); the embed
script is served; an origin that is not one is refused."""

import pytest

from chalicelib.domain import cancel as rules
from tests.api.test_cancel_api import open_session


def csp(response) -> str:
    return response.headers["Content-Security-Policy"]


def test_pages_refuse_frames_unless_the_flow_lists_the_embedding_origins(api):
    _, path = open_session(api)
    assert "frame-ancestors 'none'" in csp(api.http.get(path))
    flow = {"embed_origins": ["https://Acme.example:443/", "http://127.0.0.1:8080"]}
    saved = api.admin("PUT", "/v1/cancel-flows/acme", flow)
    assert saved.status_code == 200 and saved.json_body["embed_origins"] == [
        "https://acme.example",
        "http://127.0.0.1:8080",
    ]
    _, path = open_session(api, subscription_id="sub_embedded")
    policy = csp(api.http.get(path))
    assert "frame-ancestors https://acme.example http://127.0.0.1:8080" in policy
    assert "default-src 'none'" in policy and "form-action 'self'" in policy  # the rest of the policy stays
    done = api.http.request(
        "POST", path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"action=cancel"
    )
    assert "frame-ancestors https://acme.example" in csp(done)


@pytest.mark.parametrize(
    "origin",
    [
        "https://acme.example/account",
        "javascript:alert(1)",
        "https://acme.example; script-src *",
        "https://acme.example?x=1",
        "ftp://acme.example",
        "*",
    ],
)
def test_an_embed_origin_must_be_an_origin(api, origin):
    response = api.admin("PUT", "/v1/cancel-flows/acme", {"embed_origins": [origin]})
    assert response.status_code == 400 and response.json_body["error"] == "invalid_flow"
    with pytest.raises(rules.CancelRuleError):
        rules.embed_origin(origin)


def test_the_embed_script_is_served_and_writes_no_inline_style_or_html(api):
    response = api.http.get("/cancel/embed/snippet.js")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/javascript")
    source = response.body.decode()
    assert "innerHTML" not in source and ".style" not in source and 'setAttribute("style"' not in source
    assert "adoptedStyleSheets" in source


def test_the_documented_way_to_add_embed_origins_keeps_the_flows_offers(api):
    """docs/cancellation.md section 10: read the flow, add the origins, put it back (a PUT of the
    origins alone replaced the offers and budget with the defaults of an empty flow)."""
    flow = {
        "reasons": ["too_expensive", "unused"],
        "offers": {"too_expensive": [{"offer_id": "half", "kind": "discount", "percent": 50, "months": 3}]},
        "budget": 500,
    }
    assert api.admin("PUT", "/v1/cancel-flows/acme", flow).status_code == 200
    read = api.admin("GET", "/v1/cancel-flows/acme").json_body
    assert (
        api.admin("PUT", "/v1/cancel-flows/acme", {**read, "embed_origins": ["https://acme.example"]}).status_code
        == 200
    )
    after = api.admin("GET", "/v1/cancel-flows/acme").json_body
    assert after["offers"] == read["offers"] and after["budget"] == 500
    assert after["embed_origins"] == ["https://acme.example"]
