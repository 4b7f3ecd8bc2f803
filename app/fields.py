"""Types for what clients send (bodies, paths, query strings) that the database can take.

A value PostgreSQL or its driver cannot take fails deep in a query, as a 500; these types
refuse it where it arrives, as a 422 naming the field, and say so in the OpenAPI document:

- `Id`: a row id, within PostgreSQL's bigint (asyncpg refuses to send a larger integer);
- `StorableText`: text without U+0000 (PostgreSQL's text cannot hold it) and without lone
  surrogates (JSON's "\\ud800" escape, which UTF-8 cannot encode);
- `NotNull`: for a field that may be omitted but is not nullable.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

BIGINT_MAX = 2**63 - 1

# Identity columns count from 1.
Id = Annotated[int, Field(ge=1, le=BIGINT_MAX)]

# In a JSON Schema pattern (the OpenAPI document): no NUL anywhere.
NO_NUL_PATTERN = r"^[^\u0000]*$"


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain the character U+0000")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must not contain a lone surrogate (U+D800 to U+DFFF)") from None
    return value


# Before any other validation, so that no other validator (email-validator) sees such a value.
StorableText = BeforeValidator(_storable)


def _present_means_not_null(value: Any) -> Any:
    # An optional field may be omitted (left unchanged, or to the database's default); sending
    # null would try to erase a required value.
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


# Use as `Annotated[T, NotNull] | MISSING = MISSING` (pydantic's sentinel for "not sent"): the
# OpenAPI document shows T alone, not nullable, and an explicit null gets this message.
NotNull = BeforeValidator(_present_means_not_null)
