"""Create the tables where infrastructure does not (local servers, tests). Production tables
come from `infra/`."""

from __future__ import annotations

from chalicelib.storage.lists import MailingList
from chalicelib.storage.offers import Site
from chalicelib.storage.subscribers import Subscription

# One model stands for each table (Subscription: the subscribers table with its sunset index);
# tables with a `ttl` attribute expire items through it.
TABLE_MODELS = (MailingList, Subscription, Site)


def create_tables() -> list[str]:
    created = []
    for model in TABLE_MODELS:
        if not model.exists():
            model.create_table(wait=True)
            if "ttl" in model.get_attributes():
                model.update_ttl(ignore_update_ttl_errors=False)
            created.append(model.Meta.table_name)
    return created
