"""The lists table: one item per mailing list, with its branding."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.models import Model

from chalicelib.storage.connection import LISTS_TABLE, TableMeta


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


class ListExists(Exception):
    pass


def create_list(list_id: str, name: str, description: str | None = None, branding: dict | None = None) -> MailingList:
    item = MailingList(
        list_id,
        name=name,
        description=description,
        branding=Branding(**(branding or {})),
        created_at=datetime.now(UTC),
    )
    try:
        item.save(condition=MailingList.list_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise ListExists(list_id) from error
        raise
    return item


def get_list(list_id: str) -> MailingList | None:
    try:
        return MailingList.get(list_id)
    except DoesNotExist:
        return None
