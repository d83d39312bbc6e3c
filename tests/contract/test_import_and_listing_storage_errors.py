"""The storage functions added for imports and for reading lists and sites raise only
`core.errors`' StorageUnavailable when DynamoDB is out of reach, like every other one."""

from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import StorageUnavailable
from chalicelib.storage import imports, lists, offers
from tests.contract.test_storage_errors import unreachable  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

CALLS = {
    "start": lambda: imports.start("news", "i1", "f", 3, "cli", "email", NOW),
    "get": lambda: imports.get("news", "i1"),
    "subscription_states": lambda: imports.subscription_states("news", ["s1", "s2"]),
    "commit_chunk": lambda: imports.commit_chunk(
        "news", "i1", imports.Chunk(0, 1, refused=[(2, "bad_email", None)]), NOW, True
    ),
    "refused_rows": lambda: imports.refused_rows("news", "i1", 0, 10),
    "store_rows": lambda: imports.store_rows("news", "i1", [(2, "a@example.com")]),
    "stored_rows": lambda: imports.stored_rows("news", "i1", 1),
    "lists_page": lambda: lists.lists_page(None, 10),
    "update_list": lambda: lists.update_list("news", "News", None, {}, None),
    "sites_page": lambda: offers.sites_page(None, 10),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_storage_out_of_reach_raises_only_core_errors(unreachable, name):  # noqa: F811
    with pytest.raises(StorageUnavailable):
        CALLS[name]()
