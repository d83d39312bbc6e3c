"""Create the tables where infrastructure does not (local servers, tests). Production tables
come from `infra/`."""

from __future__ import annotations

from chalicelib.storage.lists import MailingList
from chalicelib.storage.subscribers import Profile

TABLE_MODELS = (MailingList, Profile)  # Profile stands for the whole subscribers table


def create_tables() -> list[str]:
    created = []
    for model in TABLE_MODELS:
        if not model.exists():
            model.create_table(wait=True)
            created.append(model.Meta.table_name)
    return created
