"""What operators send to the unsubscribe side, as pydantic models: new lists and their branding."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from chalicelib.core.contracts import Contract, Identifier


def _named(value: str) -> str:
    if not 0 < len(value.strip()) <= 200:
        raise ValueError("must be 1-200 characters")
    return value.strip()


def _survey_reasons(value: list[str]) -> list[str]:
    from chalicelib.domain.consent import clean_survey_reasons

    return clean_survey_reasons(value) or []


Short = Annotated[str, Field(max_length=500)]


class Branding(Contract):
    # Absent: the service's own branding (null is no value).
    sender_name: Short = None  # type: ignore[assignment]
    accent_color: Short = None  # type: ignore[assignment]
    logo_url: Short = None  # type: ignore[assignment]
    # The exit survey's reasons, in order (see `consent.clean_survey_reasons`); absent: the defaults.
    survey_reasons: Annotated[list[str], AfterValidator(_survey_reasons)] = None  # type: ignore[assignment]


class NewList(Contract):
    """A list to create; `name` is trimmed."""

    model_config = ConfigDict(extra="ignore")

    list_id: Identifier
    name: Annotated[str, AfterValidator(_named)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    branding: Branding | None = None


SCHEMAS = {model.__name__: model for model in (NewList,)}
