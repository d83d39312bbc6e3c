"""Lists can be read and changed (issue 17.7), with the same checks as when they are created;
branding keeps the pages' button text readable (WCAG 2.2 AA)."""

import pytest


def test_a_list_is_read_alone_and_in_pages(api):
    one = api.admin("GET", "/v1/lists/newsletter")
    assert one.status_code == 200
    assert one.json_body["name"] == "The Weekly" and one.json_body["branding"] == {"accent_color": "#aa3300"}
    for n in range(3):
        assert api.admin("POST", "/v1/lists", {"list_id": f"extra{n}", "name": f"Extra {n}"}).status_code == 201
    seen, after = [], None
    for _ in range(10):
        page = api.admin("GET", "/v1/lists?limit=2" + (f"&after={after}" if after else "")).json_body
        assert len(page["lists"]) <= 2
        seen += [item["list_id"] for item in page["lists"]]
        after = page["next"]
        if after is None:
            break
    assert sorted(seen) == ["extra0", "extra1", "extra2", "newsletter", "promo"]
    assert api.admin("GET", "/v1/lists/nothing-here").status_code == 404
    assert api.admin("GET", "/v1/lists?limit=0").status_code == 400


def test_a_patch_changes_only_what_it_names_and_branding_fields_merge(api):
    changed = api.admin(
        "PATCH",
        "/v1/lists/newsletter",
        {"description": "Every Friday", "branding": {"logo_url": "https://a.example/l.png"}},
    )
    assert changed.status_code == 200, changed.body
    assert changed.json_body["name"] == "The Weekly" and changed.json_body["description"] == "Every Friday"
    assert changed.json_body["branding"] == {"accent_color": "#aa3300", "logo_url": "https://a.example/l.png"}
    cleared = api.admin("PATCH", "/v1/lists/newsletter", {"description": None, "branding": {"logo_url": None}})
    assert cleared.json_body["description"] is None and cleared.json_body["branding"] == {"accent_color": "#aa3300"}
    assert api.admin("GET", "/v1/lists/newsletter").json_body == cleared.json_body


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({"name": " "}, "bad_name", "name: must be 1-200 characters"),
        ({"name": None}, "bad_name", "name is required"),
        ({"list_id": "other"}, "bad_list_id", "unknown field list_id"),
        ({"branding": {"accent_color": "yellow"}}, "bad_branding", "branding.accent_color: must be a hex colour"),
        (
            {"branding": {"logo_url": "http://a.example/l.png"}},
            "bad_branding",
            "branding.logo_url: must be an https URL",
        ),
        ({}, "bad_body", "send a JSON object"),
    ],
)
def test_a_patch_is_refused_as_a_create_would_be_naming_the_field(api, body, code, says):
    refused = api.admin("PATCH", "/v1/lists/newsletter", body)
    assert refused.status_code == 400 and refused.json_body["error"] == code and says in refused.json_body["message"]
    assert api.admin("GET", "/v1/lists/newsletter").json_body["name"] == "The Weekly"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_white_text_on_yellow_is_refused_with_the_ratio_and_a_darker_shade(api, method):
    """Issue 17.7: `#ffee00` made the main button white on yellow (contrast 1.20:1)."""
    branding = {"accent_color": "#ffee00"}
    if method == "POST":
        refused = api.admin("POST", "/v1/lists", {"list_id": "yellow", "name": "Yellow", "branding": branding})
    else:
        refused = api.admin("PATCH", "/v1/lists/newsletter", {"branding": branding})
    assert refused.status_code == 400 and refused.json_body["error"] == "bad_branding"
    assert refused.json_body["message"] == (
        "branding.accent_color: white button text on #ffee00 has a contrast of 1.20:1, under the 4.5:1 "
        "WCAG 2.2 AA asks for normal text; try #807700"
    )
    accepted = api.admin("PATCH", "/v1/lists/newsletter", {"branding": {"accent_color": "#807700"}})
    assert accepted.status_code == 200 and accepted.json_body["branding"]["accent_color"] == "#807700"


def test_a_list_stored_before_patches_existed_reads_and_takes_a_patch(api):
    from datetime import UTC, datetime

    from chalicelib.storage.lists import Branding, MailingList

    MailingList("old", name="Old", branding=Branding(), created_at=datetime(2025, 1, 1, tzinfo=UTC)).save()
    assert api.admin("GET", "/v1/lists/old").json_body["branding"] == {}
    renamed = api.admin("PATCH", "/v1/lists/old", {"name": "Older"})
    assert renamed.status_code == 200 and renamed.json_body["name"] == "Older"


def test_two_edits_at_once_never_lose_one_silently(api, monkeypatch):
    """An edit reads the list, another edit lands, then the first writes: it must not write back
    the fields it read (which would undo the other's change while both answered 200)."""
    from chalicelib.storage import lists

    real, interleaved = lists.existing_list, []

    def read_then_another_edit_lands(list_id):
        item = real(list_id)
        if not interleaved:
            interleaved.append(True)
            other = api.admin("PATCH", "/v1/lists/newsletter", {"description": "Every Friday"})
            assert other.status_code == 200
        return item

    monkeypatch.setattr(lists, "existing_list", read_then_another_edit_lands)
    first = api.admin("PATCH", "/v1/lists/newsletter", {"name": "The Friday"})
    assert first.status_code == 409 and first.json_body["error"] == "concurrent_edit"
    assert api.admin("GET", "/v1/lists/newsletter").json_body["description"] == "Every Friday"
    monkeypatch.setattr(lists, "existing_list", real)
    again = api.admin("PATCH", "/v1/lists/newsletter", {"name": "The Friday"})
    assert again.status_code == 200
    both = api.admin("GET", "/v1/lists/newsletter").json_body
    assert (both["name"], both["description"]) == ("The Friday", "Every Friday")


def test_an_unknown_field_in_a_patch_is_named_in_the_message_not_made_an_error_code(api):
    response = api.admin("PATCH", "/v1/lists/newsletter", {"<script>\n x": 1})
    assert response.status_code == 400 and response.json_body["error"] in ("bad_field", "bad_body")
    assert api.admin("PATCH", "/v1/lists/newsletter", {"name": 5}).json_body["error"] == "bad_name"
