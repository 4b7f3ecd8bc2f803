"""The users resource over HTTP, through the ASGI app and its real session dependency."""

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User


async def create(client: httpx.AsyncClient, email: str, name: str = "Ann") -> dict[str, object]:
    response = await client.post("/users", json={"email": email, "full_name": name})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_create_then_read_back(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users", json={"email": "Ann@Example.COM", "full_name": "  Ann  "}
    )

    assert response.status_code == 201
    created = response.json()
    assert created["email"] == "ann@example.com"  # stored in one canonical case
    assert created["full_name"] == "Ann"
    assert created["role"] == "member"  # the column's server default, read back by RETURNING
    assert isinstance(created["id"], int)
    assert created["created_at"]  # filled by the database, read back via RETURNING
    assert response.headers["location"] == f"/users/{created['id']}"

    fetched = await client.get(f"/users/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_write_is_in_the_database(client: httpx.AsyncClient, session: AsyncSession) -> None:
    created = await create(client, "bea@example.com", "Bea")

    stored = await session.get(User, created["id"])
    assert stored is not None
    assert (stored.email, stored.full_name) == ("bea@example.com", "Bea")


async def test_duplicate_email_is_409_and_keeps_the_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await create(client, "cat@example.com", "Cat")

    response = await client.post(
        "/users", json={"email": "CAT@example.com", "full_name": "Impostor"}
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "Conflict: Key (email)=(cat@example.com) already exists."}
    names = (
        await session.scalars(select(User.full_name).where(User.email == "cat@example.com"))
    ).all()
    assert names == ["Cat"]


async def test_missing_user_is_404(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/users/424242"),
        await client.patch("/users/424242", json={"full_name": "X"}),
        await client.delete("/users/424242"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "User 424242 does not exist."}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"full_name": "No Email"}, "email", "Field required"),
        ({"email": "dan@example.com"}, "full_name", "Field required"),
        ({"email": "not-an-email", "full_name": "Dan"}, "email", "not a valid email address"),
        ({"email": "dan@example.com", "full_name": "   "}, "full_name", "at least 1 character"),
        ({"email": "dan@example.com", "full_name": 42}, "full_name", "valid string"),
        ({"email": "dan@example.com", "full_name": "x" * 201}, "full_name", "at most 200"),
        ({"email": "dan@example.com", "full_name": "Dan", "role": "owner"}, "role", "'member'"),
        ({"email": "dan@example.com", "full_name": "Dan", "role": None}, "role", "not null"),
        ({"email": "dan@example.com", "full_name": "Dan", "bio": "hi"}, "bio", "not permitted"),
    ],
)
async def test_bad_create_input_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str, message: str
) -> None:
    response = await client.post("/users", json=body)

    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][-1] == field and message in e["msg"] for e in errors), errors


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_wrong_id_type_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/users/abc")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "user_id"]


async def test_update_changes_only_given_fields(client: httpx.AsyncClient) -> None:
    created = await create(client, "eve@example.com", "Eve")

    response = await client.patch(
        f"/users/{created['id']}", json={"full_name": "Eve Adams", "role": "admin"}
    )

    assert response.status_code == 200
    assert response.json() == {**created, "full_name": "Eve Adams", "role": "admin"}
    assert (await client.get(f"/users/{created['id']}")).json()["full_name"] == "Eve Adams"


async def test_update_to_null_is_422_and_changes_nothing(client: httpx.AsyncClient) -> None:
    created = await create(client, "fay@example.com", "Fay")

    response = await client.patch(f"/users/{created['id']}", json={"full_name": None})

    assert response.status_code == 422
    assert "may be omitted but not null" in response.json()["detail"][0]["msg"]
    assert (await client.get(f"/users/{created['id']}")).json() == created


async def test_update_to_a_taken_email_is_409_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    await create(client, "gus@example.com", "Gus")
    hal = await create(client, "hal@example.com", "Hal")

    response = await client.patch(f"/users/{hal['id']}", json={"email": "gus@example.com"})

    assert response.status_code == 409
    assert (await client.get(f"/users/{hal['id']}")).json() == hal


async def test_delete(client: httpx.AsyncClient) -> None:
    created = await create(client, "ivy@example.com", "Ivy")

    response = await client.delete(f"/users/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/users/{created['id']}")).status_code == 404


async def test_pages_cover_every_user_once_in_id_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for i in range(7):
        await create(client, f"page{i}@example.com", f"Page {i}")
    total = await session.scalar(select(func.count()).select_from(User))

    seen: list[int] = []
    after_id: int | None = None
    while True:
        params = {"limit": 3} if after_id is None else {"limit": 3, "after_id": after_id}
        page = (await client.get("/users", params=params)).json()
        seen += [user["id"] for user in page["items"]]
        assert len(page["items"]) <= 3
        after_id = page["next_after_id"]
        if after_id is None:
            break

    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == total


async def test_a_row_inserted_between_pages_is_neither_repeated_nor_skipped(
    client: httpx.AsyncClient,
) -> None:
    for i in range(4):
        await create(client, f"live{i}@example.com")
    first = (await client.get("/users", params={"limit": 2})).json()

    late = await create(client, "late@example.com")
    rest = await client.get("/users", params={"limit": 100, "after_id": first["next_after_id"]})

    ids = [u["id"] for u in first["items"]] + [u["id"] for u in rest.json()["items"]]
    assert len(ids) == len(set(ids))
    assert late["id"] in ids


@pytest.mark.parametrize("limit", [0, -1, 101, "many"])
async def test_bad_page_size_is_422(client: httpx.AsyncClient, limit: int | str) -> None:
    response = await client.get("/users", params={"limit": limit})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_an_admin_can_be_created(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users", json={"email": "root@example.com", "full_name": "Root", "role": "admin"}
    )

    assert response.status_code == 201
    assert response.json()["role"] == "admin"


async def test_filter_by_full_name_pages_in_id_order(client: httpx.AsyncClient) -> None:
    twins = [await create(client, f"twin{i}@example.com", "Sam Twin") for i in range(3)]
    await create(client, "other@example.com", "Sam Other")

    first = (await client.get("/users", params={"full_name": "Sam Twin", "limit": 2})).json()
    rest = (
        await client.get(
            "/users",
            params={"full_name": "Sam Twin", "limit": 2, "after_id": first["next_after_id"]},
        )
    ).json()

    assert [u["id"] for u in first["items"] + rest["items"]] == [t["id"] for t in twins]
    assert rest["next_after_id"] is None
