"""Request and response bodies. The API's contract lives here, apart from the table layout."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)

from app.models import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, Role


def _lowercase(email: str) -> str:
    # One person, one account: Alice@Example.com and alice@example.com must clash on the
    # unique constraint, so emails are stored in one canonical case.
    return email.lower()


Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX_LENGTH), AfterValidator(_lowercase)]
FullName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)
]


def _present_means_not_null(value: Any) -> Any:
    # An optional field may be omitted (left unchanged, or to the database's default); sending
    # null would try to erase a required value.
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


NotNull = BeforeValidator(_present_means_not_null)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    full_name: FullName
    # Omitted: the column's server default ("member") applies.
    role: Annotated[Role | None, NotNull] = None


class UserUpdate(BaseModel):
    """A partial update: only the fields present in the body change."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[Email | None, NotNull] = None
    full_name: Annotated[FullName | None, NotNull] = None
    role: Annotated[Role | None, NotNull] = None


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


class Problem(BaseModel):
    """The body of every error this API answers on purpose (FastAPI's own shape)."""

    detail: str
