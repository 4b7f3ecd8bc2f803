"""Request and response bodies. The API's contract lives here, apart from the table layout.

The OpenAPI document is generated from these types, so each says exactly what it accepts:
where a validator refuses more than a JSON Schema keyword states, the keyword is added to the
schema by hand (`json_schema_extra`), and tests/test_api_fuzz.py holds the two together.
"""

import re
from datetime import datetime
from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import MISSING, AfterValidator, BaseModel, ConfigDict, Field
from pydantic.networks import validate_email

from app.fields import NotNull, StorableText
from app.models import DEFAULT_ROLE, EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, Role


def _email(text: str) -> str:
    # pydantic's EmailStr check (email-validator), after the length check rather than before:
    # EmailStr reports a long address in "items". Then one canonical case, for one person, one
    # account: Alice@Example.com and alice@example.com must clash on the unique constraint.
    return validate_email(text)[1].lower()


def _strip(name: str) -> str:
    # Names are stored without the spaces around them; the limits above apply to what was sent.
    stripped = name.strip()
    if not stripped:
        raise ValueError("must contain a character other than whitespace")
    return stripped


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# email-validator also refuses the domains reserved for other uses (".test", ".localhost", ...),
# which the "email" format allows.
_NOT_RESERVED = "|".join(_any_case(name) for name in SPECIAL_USE_DOMAIN_NAMES)
Email = Annotated[
    str,
    Field(
        max_length=EMAIL_MAX_LENGTH,
        json_schema_extra={"format": "email", "pattern": rf"^(?!.*(?:@|\.)(?:{_NOT_RESERVED})$)"},
    ),
    StorableText,
    AfterValidator(_email),
]
FullName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=NAME_MAX_LENGTH,
        # What _strip and StorableText enforce: a character other than whitespace, no NUL.
        # (Python's `\s` is exactly what str.strip() removes.)
        json_schema_extra={"pattern": r"^[^\u0000]*[^\s\u0000][^\u0000]*$"},
    ),
    StorableText,
    AfterValidator(_strip),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    full_name: FullName
    # Omitted: the column's server default applies (the handler sends only what was set); the
    # OpenAPI document shows that same value as the default.
    role: Annotated[Role, NotNull] = DEFAULT_ROLE


class UserUpdate(BaseModel):
    """A partial update: only the fields present in the body change."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[Email, NotNull] | MISSING = MISSING
    full_name: Annotated[FullName, NotNull] | MISSING = MISSING
    role: Annotated[Role, NotNull] | MISSING = MISSING


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: Role
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    # Pass as `after_id` to get the next page; null on the last page.
    next_after_id: int | None
