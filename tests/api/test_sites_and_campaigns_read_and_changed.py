"""Sites and campaigns can be read and changed (issue 17.7): a PATCH is checked as a create is."""

import json

import pytest

from tests.api.test_offers_api import CAMPAIGN, ORIGIN, shop  # noqa: F401  (fixture)


def test_a_site_is_read_without_its_secrets_and_in_pages(shop):  # noqa: F811
    one = shop.admin("GET", "/v1/sites/shop")
    assert one.status_code == 200 and one.json_body == {
        "site_key": "shop",
        "name": "Shop",
        "allowed_origins": [ORIGIN],
        "enabled": True,
        "campaigns": ["five-off"],
    }
    for n in range(3):
        body = {"site_key": f"more{n}", "name": f"More {n}", "allowed_origins": [ORIGIN]}
        assert shop.admin("POST", "/v1/sites", body).status_code == 201
    seen, after = [], None
    for _ in range(10):
        page = shop.admin("GET", "/v1/sites?limit=2" + (f"&after={after}" if after else "")).json_body
        seen += [site["site_key"] for site in page["sites"]]
        if (after := page["next"]) is None:
            break
    assert sorted(seen) == ["more0", "more1", "more2", "shop"]
    assert shop.admin("GET", "/v1/sites/nope").status_code == 404


def test_a_site_patch_changes_what_it_names_and_is_checked_as_a_create(shop):  # noqa: F811
    changed = shop.admin(
        "PATCH", "/v1/sites/shop", {"allowed_origins": ["https://shop.example:443", "https://b.example"]}
    )
    assert changed.status_code == 200 and changed.json_body["name"] == "Shop"
    assert changed.json_body["allowed_origins"] == [ORIGIN, "https://b.example"]
    for body, code in (({"allowed_origins": []}, "bad_origin"), ({"name": ""}, "bad_name"), ({"x": 1}, "bad_field")):
        refused = shop.admin("PATCH", "/v1/sites/shop", body)
        assert refused.status_code == 400 and refused.json_body["error"] == code, refused.json_body
    assert shop.admin("PATCH", "/v1/sites/shop", {"allowed_origins": ["not a url"]}).status_code == 400
    assert shop.admin("GET", "/v1/sites/shop").json_body["allowed_origins"] == [ORIGIN, "https://b.example"]


def test_a_campaign_is_read_and_patched_field_by_field(shop):  # noqa: F811
    read = shop.admin("GET", "/v1/sites/shop/campaigns/five-off")
    assert read.status_code == 200 and read.json_body["campaign"]["budget"] == {"total_codes": 50}
    listed = shop.admin("GET", "/v1/sites/shop/campaigns").json_body
    assert [c["campaign_id"] for c in listed["campaigns"]] == ["five-off"] and listed["next"] is None
    patched = shop.admin("PATCH", "/v1/sites/shop/campaigns/five-off", {"priority": 5, "budget": {"total_codes": 80}})
    assert patched.status_code == 200, patched.body
    campaign = patched.json_body["campaign"]
    assert campaign["priority"] == 5 and campaign["budget"] == {"total_codes": 80}
    assert campaign["offer"] == CAMPAIGN["offer"] and campaign["targeting"] == CAMPAIGN["targeting"]
    assert shop.admin("GET", "/v1/sites/shop/campaigns/five-off").json_body["campaign"] == campaign


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"offer": {"kind": "percent", "value": 500}}, "offer.value"),  # a field's own check
        ({"offer": {"kind": "percent", "value": 10, "max_discount": 5}}, "max_discount needs"),  # across fields
        ({"budget": None}, "budget is required"),
        ({"enabled": None}, "enabled: input should be a valid boolean"),  # as a PUT: the kill switch stays
        ({"priority": None}, "priority: input should be a valid integer"),
        ({"campaign_id": "other"}, "unknown field campaign_id"),
    ],
)
def test_a_campaign_patch_is_refused_as_a_put_would_be(shop, body, says):  # noqa: F811
    refused = shop.admin("PATCH", "/v1/sites/shop/campaigns/five-off", body)
    assert refused.status_code == 400 and says in refused.json_body["message"], refused.json_body
    assert shop.admin("GET", "/v1/sites/shop/campaigns/five-off").json_body["campaign"]["offer"] == CAMPAIGN["offer"]


def test_a_campaign_patch_with_null_removes_a_field_the_campaign_may_lack(shop):  # noqa: F811
    named = shop.admin("PATCH", "/v1/sites/shop/campaigns/five-off", {"name": "Five off"})
    assert named.status_code == 200 and named.json_body["campaign"]["name"] == "Five off"
    removed = shop.admin("PATCH", "/v1/sites/shop/campaigns/five-off", {"name": None})
    assert removed.status_code == 200 and "name" not in removed.json_body["campaign"]


def test_a_stopped_campaign_stays_stopped_after_a_patch_sending_enabled_null(shop):  # noqa: F811
    assert shop.admin("PUT", "/v1/sites/shop/campaigns/five-off/enabled", {"enabled": False}).status_code == 200
    refused = shop.admin("PATCH", "/v1/sites/shop/campaigns/five-off", {"enabled": None})
    assert (refused.status_code, refused.json_body["error"]) == (400, "bad_campaign")
    assert shop.admin("GET", "/v1/sites/shop/campaigns/five-off").json_body["campaign"]["enabled"] is False


@pytest.mark.parametrize("name", ["a\u0000b", "line\nbreak", "\u202egnp.exe"])
def test_site_and_campaign_names_are_printable_characters(shop, name):  # noqa: F811
    site = shop.admin("PATCH", "/v1/sites/shop", {"name": name})
    assert (site.status_code, site.json_body) == (
        400,
        {"error": "bad_name", "message": "name: must be printable characters"},
    )
    new_site = shop.admin("POST", "/v1/sites", {"site_key": "nul", "name": name, "allowed_origins": [ORIGIN]})
    assert (new_site.status_code, new_site.json_body["error"]) == (400, "bad_name")
    campaign = shop.admin("PUT", "/v1/sites/shop/campaigns/named", {**CAMPAIGN, "name": name})
    assert (campaign.status_code, campaign.json_body) == (
        400,
        {"error": "bad_campaign", "message": "name: must be printable characters"},
    )
    assert shop.admin("GET", "/v1/sites/shop").json_body["name"] == "Shop"


def test_an_unknown_campaign_is_a_404(shop):  # noqa: F811
    assert shop.admin("GET", "/v1/sites/shop/campaigns/nope").status_code == 404
    assert shop.admin("PATCH", "/v1/sites/shop/campaigns/nope", {"priority": 1}).status_code == 404


def test_lists_sites_and_campaigns_are_read_and_edited_from_the_cli(shop, capsys):  # noqa: F811
    from tools.cli import main

    capsys.readouterr()
    assert main(["lists", "--limit", "10"]) == 0
    assert sorted(item["list_id"] for item in json.loads(capsys.readouterr().out)["lists"]) == ["newsletter", "promo"]
    assert main(["edit-list", "newsletter", "--name", "Fridays", "--sender", "Us"]) == 0
    edited = json.loads(capsys.readouterr().out)
    assert edited["name"] == "Fridays" and edited["branding"] == {"accent_color": "#aa3300", "sender_name": "Us"}
    with pytest.raises(SystemExit) as refused:
        main(["edit-list", "newsletter", "--color", "#ffee00"])
    assert refused.value.code == 2
    assert "bad_branding: branding.accent_color: white button text on #ffee00 has a contrast of 1.20:1" in (
        capsys.readouterr().err
    )
    assert main(["show-list", "newsletter"]) == 0
    assert json.loads(capsys.readouterr().out)["branding"]["accent_color"] == "#aa3300"

    assert main(["edit-site", "shop", "--origin", ORIGIN, "--origin", "https://b.example"]) == 0
    assert json.loads(capsys.readouterr().out)["allowed_origins"] == [ORIGIN, "https://b.example"]
    assert main(["sites"]) == 0 and json.loads(capsys.readouterr().out)["sites"][0]["site_key"] == "shop"
    assert main(["edit-campaign", "shop", "five-off", '{"priority": 3}']) == 0
    assert json.loads(capsys.readouterr().out)["campaign"]["priority"] == 3
    assert main(["show-campaign", "shop", "five-off"]) == 0
    assert json.loads(capsys.readouterr().out)["campaign"]["priority"] == 3
    assert main(["campaigns", "shop"]) == 0 and len(json.loads(capsys.readouterr().out)["campaigns"]) == 1
    assert main(["show-site", "shop"]) == 0 and "secret" not in capsys.readouterr().out
