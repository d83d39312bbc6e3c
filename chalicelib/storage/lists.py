"""The lists table: one item per mailing list, with its branding and its sunset policy (stored as
the sunset job validated it; read back as a plain dict)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.storage.connection import TABLES, TableMeta
from chalicelib.storage.transactions import get_or_none, storage_errors, written

POLICY_CACHE_SECONDS = 60.0


class Branding(MapAttribute):
    sender_name = UnicodeAttribute(null=True)
    accent_color = UnicodeAttribute(null=True)
    logo_url = UnicodeAttribute(null=True)
    survey_reasons = ListAttribute(of=UnicodeAttribute, null=True)  # the exit survey's own reasons


class MailingList(Model):
    class Meta(TableMeta):
        table_name = TABLES.lists

    list_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    branding = Branding(default=dict)
    created_at = UTCDateTimeAttribute()
    sunset = JSONAttribute(null=True)  # the list's sunset policy; defaults when absent
    frequencies = JSONAttribute(null=True)  # "less often" choices offered on the page: [{id, label, labels?}]
    edits = NumberAttribute(null=True)  # how many times it was changed (PATCH): absent is 0


class ListExists(Conflict):
    def __init__(self, list_id: str = ""):
        super().__init__("list_exists", "a list with this id exists")
        self.list_id = list_id


class UnknownList(NotFound):
    """The one refusal of a list that does not exist, whichever door named it."""

    def __init__(self, list_id: str = ""):
        super().__init__("unknown_list", "this list does not exist")
        self.list_id = list_id


def create_list(
    list_id: str, name: str, description: str | None = None, branding: dict | None = None, sunset: dict | None = None
) -> MailingList:
    item = MailingList(
        list_id,
        name=name,
        description=description,
        branding=Branding(**(branding or {})),
        created_at=datetime.now(UTC),
        sunset=sunset,
    )
    if not written(lambda: item.save(condition=MailingList.list_id.does_not_exist())):
        raise ListExists(list_id)
    return item


def get_list(list_id: str) -> MailingList | None:
    return get_or_none(MailingList, list_id)


@storage_errors
def existing_list(list_id: str) -> MailingList:
    """The list, or UnknownList."""
    item = get_list(list_id)
    if item is None:
        raise UnknownList(list_id)
    return item


@storage_errors
def list_ids() -> list[str]:
    """Every list's id: one paginated read of the (small) lists table. Not for a request path."""
    return [item.list_id for item in MailingList.scan(attributes_to_get=["list_id"])]


_cached: dict[str, tuple[float, MailingList | None]] = {}


def cached_list(list_id: str) -> MailingList | None:
    """The list, cached for a minute per container: jobs and pages read it often, it changes rarely."""
    loaded_at, item = _cached.get(list_id, (None, None))
    if loaded_at is None or time.monotonic() - loaded_at > POLICY_CACHE_SECONDS:
        item = get_list(list_id)
        _cached[list_id] = (time.monotonic(), item)
    return item


def sunset_policy_of(list_id: str) -> dict | None:
    """The list's sunset policy as stored (None: the list has none, or does not exist)."""
    item = cached_list(list_id)
    return item.sunset if item else None


def set_sunset_policy(list_id: str, policy: dict) -> bool:
    """False when the list does not exist."""
    changed = written(
        lambda: MailingList(list_id).update(
            actions=[MailingList.sunset.set(policy)], condition=MailingList.list_id.exists()
        )
    )
    _cached.pop(list_id, None)
    return changed


def forget_cached_lists() -> None:
    _cached.clear()


def set_frequencies(list_id: str, frequencies: list[dict]) -> bool:
    """Store the list's frequencies as given (validated by the caller); False when the list does
    not exist. An empty list offers none."""
    value = frequencies or None
    action = MailingList.frequencies.set(value) if value else MailingList.frequencies.remove()
    changed = written(lambda: MailingList(list_id).update(actions=[action], condition=MailingList.list_id.exists()))
    _cached.pop(list_id, None)
    return changed


# Reading and changing lists (issue 17.7).


@storage_errors
def lists_page(after: str | None, limit: int) -> tuple[list[MailingList], str | None]:
    """Up to `limit` lists after the list `after` (in the table's order), and the id to continue
    after (None: no more). A paged Scan of the lists table, which holds one small item a list."""
    start = {"list_id": {"S": after}} if after else None
    pages = MailingList.scan(limit=limit, page_size=limit, last_evaluated_key=start)
    items = list(pages)
    more = pages.last_evaluated_key
    return items, (more["list_id"]["S"] if more and len(items) == limit else None)


@storage_errors
def update_list(list_id: str, name: str, description: str | None, branding: dict, edits: int | None) -> bool:
    """Store a list's name, description and branding as given (validated by the caller), if the
    list is still as read (`edits`, its count of changes then); False when it is gone or changed
    meanwhile (two edits at once: the later one would undo the earlier's fields)."""
    actions = [
        MailingList.name.set(name),
        MailingList.description.set(description) if description is not None else MailingList.description.remove(),
        MailingList.branding.set(Branding(**branding)),
        MailingList.edits.set((edits or 0) + 1),
    ]
    unchanged = MailingList.edits.does_not_exist() if not edits else MailingList.edits == edits
    condition = MailingList.list_id.exists() & unchanged
    changed = written(lambda: MailingList(list_id).update(actions=actions, condition=condition))
    _cached.pop(list_id, None)
    return changed
