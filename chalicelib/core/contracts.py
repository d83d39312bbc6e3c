"""Typed input: payloads are checked by pydantic models, and a model's first complaint becomes an
`Invalid` that names the field, never pydantic's own dump.

Importing pydantic costs ~180 ms: only admin and event paths import this module (one-click and
the offer decision keep lean parsers that tests hold to the same models).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WrapValidator

from chalicelib.core.errors import Invalid


class Contract(BaseModel):
    """A payload as a caller sends it: no unknown fields (a typo must not leave a default in
    place), no coercion ("80" is not 80, 1 is not true), no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must be printable characters")
    return value


ID_REGEX = r"^[A-Za-z0-9_-]+$"
Identifier = Annotated[str, Field(pattern=ID_REGEX, min_length=1, max_length=64)]
Printable = Annotated[str, AfterValidator(_printable)]
# StrEnum fields take the enum's values as JSON strings (strict mode would want the member).
Lenient = Field(strict=False)


def absent_when_wrong(default):
    """A field read leniently: a value of the wrong type reads as `default` instead of a refusal."""

    def read(value, handler):
        try:
            return handler(value)
        except ValidationError:
            return default

    return WrapValidator(read)


def where(location: tuple) -> str:
    """('variants', 0, 'offer', 'kind') -> 'variants[0].offer.kind'"""
    text = ""
    for step in location:
        if isinstance(step, str) and not step.isprintable():  # a key sent with control characters
            step = step.encode("unicode_escape").decode("ascii")
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _model_names() -> set[str]:
    names, pending = set(), [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            if model.__name__ not in names:
                names.add(model.__name__)
                pending.append(model)
    return names


def describe(error: ValidationError) -> tuple[str, str]:
    """(field, sentence) of a model's first complaint, in our words where pydantic's are vague."""
    first = error.errors(include_url=False)[0]  # the input tells a string from a list; never in the message
    # Union members add their type name to the location: it names no field of the payload (a
    # payload's own key may start with a capital letter: only model names are dropped).
    models = _model_names()
    steps = first["loc"]
    kept = steps[-1:] if first["type"] == "extra_forbidden" else ()  # the unknown key itself, whatever its name
    steps = steps[: len(steps) - len(kept)]
    location = tuple(step for step in steps if not (isinstance(step, str) and step in models)) + tuple(kept)
    location = tuple(step for step in location if not str(step).startswith(("function-", "constrained-")))
    field = where(location) or "the body"
    kind, message = first["type"], first["msg"]
    if kind == "extra_forbidden":
        return field, f"unknown field {field}"
    if kind == "missing":
        return field, f"{field} is required"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag, expected = first.get("ctx", {}).get("discriminator", "type"), first.get("ctx", {}).get("expected_tags")
        return field, f"{where((*location, tag.strip(chr(39))))} must be one of {expected or 'the documented values'}"
    if kind in ("too_short", "too_long") and isinstance(first.get("input"), str):
        # A string checked after a validator (Printable) is measured as a generic "value" of "items".
        bound = first["ctx"]["min_length" if kind == "too_short" else "max_length"]
        most = "at least" if kind == "too_short" else "at most"
        return field, f"{field}: string should have {most} {bound} character{'s' if bound != 1 else ''}"
    if kind in ("model_type", "dict_type"):  # pydantic's words name our class ("instance of Budget")
        return field, f"{field}: input should be an object"
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind in ("string_pattern_mismatch",):
        message = "must be letters, digits, '-' or '_'"
    return field, f"{field}: {message[:1].lower()}{message[1:]}"


def validate[M: BaseModel](model: type[M], data, code: str | Callable[[str], str]) -> M:
    """`data` as `model`, or `Invalid(code, "<field>: <what is wrong>")`. `code` may be a
    function of the field's top-level name (`bad_order_value`), for routes that answer so."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        field, message = describe(error)
        top = field.split(".")[0].split("[")[0]
        raise Invalid(code(top) if callable(code) else code, message) from None


def first_error(model: type[BaseModel], data) -> str | None:
    """The sentence `validate` would refuse `data` with, or None when the model takes it."""
    try:
        model.model_validate(data)
    except ValidationError as error:
        return describe(error)[1]
    return None


def patch_of[M: BaseModel](model: type[M], fixed: tuple[str, ...] = (), name: str | None = None) -> type[BaseModel]:
    """The PATCH model of a create model: each field but the `fixed` ones (ids named by the URL)
    optional, with the same type and checks; only the fields sent are changed (`model_fields_set`).
    The merged result is validated by `model` itself, so both paths apply the same rules."""
    from pydantic import create_model

    fields = {}
    for field, info in model.model_fields.items():
        if field in fixed:
            continue
        kind = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[field] = (kind | None, None)
    return create_model(name or f"{model.__name__}Patch", __base__=Contract, **fields)


def patched(model: type[BaseModel], patch_model: type[BaseModel], current: dict, body, code) -> dict:
    """`current` with the fields `body` sends (checked by `patch_model`) put in their place, a
    null removing one; the result checked whole by `model`, as a create would be, and returned.
    A null is checked as a create checks it: taken where `model` takes null, refused where the
    field has a default null is not (`enabled: null` must not bring back `true`, lifting a kill
    switch), and a required field removed is missing."""
    if not isinstance(body, dict) or not body:
        raise Invalid(code("body") if callable(code) else code, "send a JSON object with the fields to change")
    patch = validate(patch_model, body, code)
    sent = {name: body[name] for name in patch.model_fields_set}
    merged = {name: value for name, value in {**current, **sent}.items() if value is not None}
    nulls = {name: None for name, value in sent.items() if value is None and not model.model_fields[name].is_required()}
    validate(model, {**merged, **nulls}, code)
    return merged
