"""Request and response bodies. The API's contract lives here, apart from the table layout."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from app.models import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH


def _lowercase(email: str) -> str:
    # One person, one account: Alice@Example.com and alice@example.com must clash on the
    # unique constraint, so emails are stored in one canonical case.
    return email.lower()


Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX_LENGTH), AfterValidator(_lowercase)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name


class UserUpdate(BaseModel):
    """A partial update: only the fields present in the body change."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    name: Name | None = None

    @field_validator("email", "name", mode="before")
    @classmethod
    def _present_means_not_null(cls, value: Any) -> Any:
        # Omitting a field leaves it unchanged; sending null would try to erase a required value.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    # Pass as `after_id` to get the next page; null on the last page.
    next_after_id: int | None


class Problem(BaseModel):
    """The body of every error this API answers on purpose (FastAPI's own shape)."""

    detail: str
