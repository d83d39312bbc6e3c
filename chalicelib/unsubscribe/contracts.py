"""What operators send to the unsubscribe side, as pydantic models: new lists and their branding."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from chalicelib.core.contracts import Contract, Identifier


def _named(value: str) -> str:
    if not 0 < len(value.strip()) <= 200:
        raise ValueError("must be 1-200 characters")
    return value.strip()


Short = Annotated[str, Field(max_length=500)]


class Branding(Contract):
    # Absent: the service's own branding (null is no value).
    sender_name: Short = None  # type: ignore[assignment]
    accent_color: Short = None  # type: ignore[assignment]
    logo_url: Short = None  # type: ignore[assignment]


class NewList(Contract):
    """A list to create; `name` is trimmed."""

    model_config = ConfigDict(extra="ignore")

    list_id: Identifier
    name: Annotated[str, AfterValidator(_named)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    branding: Branding | None = None


SCHEMAS = {model.__name__: model for model in (NewList,)}
