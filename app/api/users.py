"""The users resource: create, read, list (keyset-paginated), update, delete."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import MISSING
from sqlalchemy import delete, select, update

from app.api.deps import ReadSessionDep, SessionDep
from app.api.problems import BODY, DATABASE, INVALID, problem
from app.db import ReadSession
from app.fields import BIGINT_MAX, Id
from app.models import User
from app.schemas import FullName, UserCreate, UserPage, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], responses=DATABASE)

MAX_PAGE_SIZE = 100
NOT_FOUND = problem(status.HTTP_404_NOT_FOUND, "No such user")
CONFLICT = problem(status.HTTP_409_CONFLICT, "Email already taken")

UserId = Annotated[Id, Path()]


def _not_found(user_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"User {user_id} does not exist.")


async def _get_or_404(session: ReadSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise _not_found(user_id)
    return user


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses={**BODY, **CONFLICT},
)
async def create_user(body: UserCreate, session: SessionDep, response: Response) -> User:
    # exclude_unset: what the client left out is left to the database's defaults.
    user = User(**body.model_dump(exclude_unset=True))
    session.add(user)
    # Flush now so a duplicate email surfaces here, and the INSERT ... RETURNING fills in id
    # and created_at for the response. The commit follows in the session dependency.
    await session.flush()
    response.headers["Location"] = f"/users/{user.id}"
    return user


@router.get("/{user_id}", response_model=UserRead, responses={**INVALID, **NOT_FOUND})
async def get_user(user_id: UserId, session: ReadSessionDep) -> User:
    return await _get_or_404(session, user_id)


@router.get("", response_model=UserPage, responses=INVALID)
async def list_users(
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    after_id: Annotated[
        int, Query(ge=0, le=BIGINT_MAX, description="next_after_id of the previous page")
    ]
    | MISSING = MISSING,
    full_name: Annotated[FullName, Query(description="only users with exactly this name")]
    | MISSING = MISSING,
) -> UserPage:
    # Keyset pagination: ordered by the primary key and resumed after the last id seen, so a
    # page never repeats or skips rows when others insert meanwhile, and page 1000 costs what
    # page 1 costs (OFFSET would read and throw away every earlier row).
    query = select(User).order_by(User.id).limit(limit + 1)
    if after_id is not MISSING:
        query = query.where(User.id > after_id)
    if full_name is not MISSING:
        # Served by ix_users_full_name_id (full_name, id): the page is read in index order.
        query = query.where(User.full_name == full_name)
    users = list((await session.scalars(query)).all())
    has_more = len(users) > limit
    users = users[:limit]
    return UserPage(
        items=[UserRead.model_validate(user) for user in users],
        next_after_id=users[-1].id if has_more else None,
    )


@router.patch("/{user_id}", response_model=UserRead, responses={**BODY, **NOT_FOUND, **CONFLICT})
async def update_user(user_id: UserId, body: UserUpdate, session: SessionDep) -> User:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        return await _get_or_404(session, user_id)
    # One statement, which finds the row, changes it and returns it as stored: a read first
    # and an UPDATE later would race a concurrent DELETE (an UPDATE of no row: a 500), and
    # answer with the other fields as they were before a concurrent PATCH committed.
    user: User | None = await session.scalar(
        update(User).where(User.id == user_id).values(**changes).returning(User)
    )
    if user is None:
        raise _not_found(user_id)
    return user


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**INVALID, **NOT_FOUND},
)
async def delete_user(user_id: UserId, session: SessionDep) -> None:
    # One statement, for the same reason: of two concurrent DELETEs, one deletes the row (204)
    # and the other finds none (404).
    deleted = await session.scalar(delete(User).where(User.id == user_id).returning(User.id))
    if deleted is None:
        raise _not_found(user_id)
