"""The lists table: one item per mailing list, with its branding and its sunset policy."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pynamodb.attributes import JSONAttribute, MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib.storage.connection import LISTS_TABLE, TableMeta
from chalicelib.storage.transactions import written

POLICY_CACHE_SECONDS = 60.0


class Branding(MapAttribute):
    sender_name = UnicodeAttribute(null=True)
    accent_color = UnicodeAttribute(null=True)
    logo_url = UnicodeAttribute(null=True)


class MailingList(Model):
    class Meta(TableMeta):
        table_name = LISTS_TABLE

    list_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    branding = Branding(default=dict)
    created_at = UTCDateTimeAttribute()
    sunset = JSONAttribute(null=True)  # the list's sunset policy; defaults when absent


class ListExists(Exception):
    pass


def create_list(
    list_id: str, name: str, description: str | None = None, branding: dict | None = None, sunset: dict | None = None
) -> MailingList:
    item = MailingList(
        list_id,
        name=name,
        description=description,
        branding=Branding(**(branding or {})),
        created_at=datetime.now(UTC),
        sunset=_policy_dict(sunset),
    )
    if not written(lambda: item.save(condition=MailingList.list_id.does_not_exist())):
        raise ListExists(list_id)
    return item


def get_list(list_id: str) -> MailingList | None:
    try:
        return MailingList.get(list_id)
    except DoesNotExist:
        return None


_cached: dict[str, tuple[float, MailingList | None]] = {}


def cached_list(list_id: str) -> MailingList | None:
    """The list, cached for a minute per container: jobs and pages read it often, it changes rarely."""
    loaded_at, item = _cached.get(list_id, (None, None))
    if loaded_at is None or time.monotonic() - loaded_at > POLICY_CACHE_SECONDS:
        item = get_list(list_id)
        _cached[list_id] = (time.monotonic(), item)
    return item


def _policy_dict(sunset: dict | None) -> dict | None:
    from chalicelib.sunset_policy import parse_policy

    return parse_policy(sunset).as_dict() if sunset is not None else None


def policy_of(list_id: str):
    """The list's sunset policy (defaults when it has none)."""
    from chalicelib.sunset_policy import parse_policy

    item = cached_list(list_id)
    return parse_policy(item.sunset if item else None)


def set_policy(list_id: str, policy) -> None:
    MailingList(list_id).update(
        actions=[MailingList.sunset.set(policy.as_dict())], condition=MailingList.list_id.exists()
    )
    _cached.pop(list_id, None)


def forget_policies() -> None:
    _cached.clear()
