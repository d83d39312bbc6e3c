"""A list's name and sender name are shown in headings and mail: control and direction-override
characters are refused when the list is made or changed (a NUL and U+202E reached the page)."""

import pytest

from chalicelib.core.contracts import first_error
from chalicelib.unsubscribe.contracts import ListPatch, NewList


@pytest.mark.parametrize("name", ["\u0000", "News\u202e", "a\u0007b", "line\nbreak"])
def test_a_name_that_is_not_printable_is_refused(name):
    assert first_error(NewList, {"list_id": "x1", "name": name}) == "name: must be printable characters"
    assert first_error(ListPatch, {"name": name}) == "name: must be printable characters"
    branding = {"list_id": "x1", "name": "ok", "branding": {"sender_name": name}}
    assert first_error(NewList, branding) == "branding.sender_name: must be printable characters"


def test_a_name_in_any_script_is_fine():
    assert first_error(NewList, {"list_id": "x1", "name": "ข่าวประจำสัปดาห์ – Ñews"}) is None
