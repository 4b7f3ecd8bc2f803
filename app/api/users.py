"""The users resource: create, read, list (keyset-paginated), update, delete."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import select

from app.api.deps import ReadSessionDep, SessionDep
from app.db import ReadSession
from app.models import User
from app.schemas import Problem, UserCreate, UserPage, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])

MAX_PAGE_SIZE = 100
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"model": Problem, "description": "No such user"}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {"model": Problem, "description": "Email already taken"}
}


async def _get_or_404(session: ReadSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"User {user_id} does not exist.")
    return user


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserRead, responses=_CONFLICT)
async def create_user(body: UserCreate, session: SessionDep, response: Response) -> User:
    # exclude_unset: what the client left out is left to the database's defaults.
    user = User(**body.model_dump(exclude_unset=True))
    session.add(user)
    # Flush now so a duplicate email surfaces here, and the INSERT ... RETURNING fills in id
    # and created_at for the response. The commit follows in the session dependency.
    await session.flush()
    response.headers["Location"] = f"/users/{user.id}"
    return user


@router.get("/{user_id}", response_model=UserRead, responses=_NOT_FOUND)
async def get_user(user_id: int, session: ReadSessionDep) -> User:
    return await _get_or_404(session, user_id)


@router.get("", response_model=UserPage)
async def list_users(
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    after_id: Annotated[int | None, Query(description="next_after_id of the previous page")] = None,
    full_name: Annotated[str | None, Query(description="only users with exactly this name")] = None,
) -> UserPage:
    # Keyset pagination: ordered by the primary key and resumed after the last id seen, so a
    # page never repeats or skips rows when others insert meanwhile, and page 1000 costs what
    # page 1 costs (OFFSET would read and throw away every earlier row).
    query = select(User).order_by(User.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(User.id > after_id)
    if full_name is not None:
        # Served by ix_users_full_name_id (full_name, id): the page is read in index order.
        query = query.where(User.full_name == full_name)
    users = list((await session.scalars(query)).all())
    has_more = len(users) > limit
    users = users[:limit]
    return UserPage(
        items=[UserRead.model_validate(user) for user in users],
        next_after_id=users[-1].id if has_more else None,
    )


@router.patch("/{user_id}", response_model=UserRead, responses={**_NOT_FOUND, **_CONFLICT})
async def update_user(user_id: int, body: UserUpdate, session: SessionDep) -> User:
    user = await _get_or_404(session, user_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    await session.flush()
    return user


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_NOT_FOUND,
)
async def delete_user(user_id: int, session: SessionDep) -> None:
    user = await _get_or_404(session, user_id)
    await session.delete(user)
