"""What operators send to the unsubscribe side, as pydantic models: new lists and their branding."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from chalicelib.core.contracts import Contract, Identifier, patch_of
from chalicelib.domain.branding import check_accent_color, check_logo_url


def _named(value: str) -> str:
    if not 0 < len(value.strip()) <= 200:
        raise ValueError("must be 1-200 characters")
    return value.strip()


Short = Annotated[str, Field(max_length=500)]


class Branding(Contract):
    # Absent: the service's own branding (null is no value).
    sender_name: Short = None  # type: ignore[assignment]
    # White button text on it must keep WCAG 2.2 AA contrast (issue 17.7).
    accent_color: Annotated[str, AfterValidator(check_accent_color)] = None  # type: ignore[assignment]
    logo_url: Annotated[Short, AfterValidator(check_logo_url)] = None  # type: ignore[assignment]


class NewList(Contract):
    """A list to create; `name` is trimmed."""

    model_config = ConfigDict(extra="ignore")

    list_id: Identifier
    name: Annotated[str, AfterValidator(_named)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    branding: Branding | None = None


# What a PATCH of a list may change: the fields of NewList but its id, with the same checks.
ListPatch = patch_of(NewList, fixed=("list_id",), name="ListPatch")

SCHEMAS = {model.__name__: model for model in (NewList, ListPatch)}
