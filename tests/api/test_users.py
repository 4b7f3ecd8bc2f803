"""The users resource over HTTP, black-box: what a client can create, read, change and delete.

Every test makes its own users, with a `token` in their emails and names, and finds them again
by id or by name: the database may hold any other rows (tests/api/conftest.py).
"""

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.api.openapi import document, nullable_places

JSON = {"content-type": "application/json"}


async def create(client: httpx.AsyncClient, email: str, name: str = "Ann") -> dict[str, Any]:
    response = await client.post("/users", json={"email": email, "full_name": name})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def named(client: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    """Every user called `name`, in id order (one page is enough for a test's own users)."""
    response = await client.get("/users", params={"full_name": name, "limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_create_then_read_back(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        "/users", json={"email": f"Ann-{token}@Example.COM", "full_name": f"  Ann {token}  "}
    )

    assert response.status_code == 201
    created = response.json()
    assert created["email"] == f"ann-{token}@example.com"  # stored in one canonical case
    assert created["full_name"] == f"Ann {token}"
    assert created["role"] == "member"  # the column's server default, read back by RETURNING
    assert isinstance(created["id"], int)
    assert created["created_at"]  # filled by the database, read back via RETURNING
    assert response.headers["location"] == f"/users/{created['id']}"

    fetched = await client.get(f"/users/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert await named(client, f"Ann {token}") == [created]


async def test_duplicate_email_is_409_and_keeps_the_first(
    client: httpx.AsyncClient, token: str
) -> None:
    first = await create(client, f"cat-{token}@example.com", f"Cat {token}")

    response = await client.post(
        "/users", json={"email": f"CAT-{token}@example.com", "full_name": f"Impostor {token}"}
    )

    assert response.status_code == 409
    # Names the field, and never the value: PostgreSQL's own DETAIL would quote the email.
    assert response.json() == {"detail": "Conflict: the email is already taken."}
    assert (await client.get(f"/users/{first['id']}")).json() == first
    assert await named(client, f"Impostor {token}") == []


async def test_missing_user_is_404(client: httpx.AsyncClient, token: str) -> None:
    gone = await create(client, f"gone-{token}@example.com")
    assert (await client.delete(f"/users/{gone['id']}")).status_code == 204

    for response in (
        await client.get(f"/users/{gone['id']}"),
        await client.patch(f"/users/{gone['id']}", json={"full_name": "X"}),
        await client.delete(f"/users/{gone['id']}"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": f"User {gone['id']} does not exist."}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"full_name": "No Email"}, "email", "Field required"),
        ({"email": "dan@example.com"}, "full_name", "Field required"),
        ({"email": "not-an-email", "full_name": "Dan"}, "email", "not a valid email address"),
        ({"email": "dan@example.com", "full_name": ""}, "full_name", "at least 1 character"),
        ({"email": "dan@example.com", "full_name": "   "}, "full_name", "other than whitespace"),
        ({"email": "dan@example.com", "full_name": "Dan\x00"}, "full_name", "U+0000"),
        ({"email": "dan\x00@example.com", "full_name": "Dan"}, "email", "U+0000"),
        ({"email": "dan@example.test", "full_name": "Dan"}, "email", "special-use"),
        (
            {"email": "d" * 64 + "@" + "e" * 187 + ".com", "full_name": "Dan"},
            "email",
            "at most 254",
        ),
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


@pytest.mark.parametrize("field", ["email", "full_name"])
async def test_a_lone_surrogate_is_422_naming_the_field(
    client: httpx.AsyncClient, token: str, field: str
) -> None:
    """JSON may escape half of a surrogate pair ("\\ud800"), which no UTF-8 text can hold."""
    body = {"email": f"sur-{token}@example.com", "full_name": f"Sur {token}"}
    raw = json.dumps(body).replace(f'"{body[field]}"', f'"{body[field][:3]}\\ud800"')

    response = await client.post("/users", content=raw, headers=JSON)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert "lone surrogate" in response.json()["detail"][0]["msg"]


async def test_a_422_names_the_field_without_echoing_the_input(
    client: httpx.AsyncClient, token: str
) -> None:
    huge = "x" * 100_000

    response = await client.post(
        "/users", json={"email": f"big-{token}@example.com", "full_name": huge, huge: 1}
    )

    assert response.status_code == 422
    assert len(response.content) < 1000
    issues = response.json()["detail"]
    assert [issue["type"] for issue in issues] == ["string_too_long", "extra_forbidden"]
    assert all("input" not in issue for issue in issues)


async def test_a_bad_patch_changes_nothing(client: httpx.AsyncClient, token: str) -> None:
    created = await create(client, f"pat-{token}@example.com", f"Pat {token}")

    for body in ({"full_name": "Pat\x00"}, {"email": "not-an-email"}, {"role": "owner"}):
        response = await client.patch(f"/users/{created['id']}", json=body)
        assert response.status_code == 422, body

    assert (await client.get(f"/users/{created['id']}")).json() == created


async def test_an_empty_patch_changes_nothing(client: httpx.AsyncClient, token: str) -> None:
    created = await create(client, f"nil-{token}@example.com", f"Nil {token}")

    response = await client.patch(f"/users/{created['id']}", json={})

    assert (response.status_code, response.json()) == (200, created)


BIGINT_MAX = 2**63 - 1


@pytest.mark.parametrize("user_id", [BIGINT_MAX + 1, -(2**63) - 1, 10**30, 0])
async def test_an_id_outside_bigint_is_422_on_every_route(
    client: httpx.AsyncClient, user_id: int
) -> None:
    for response in (
        await client.get(f"/users/{user_id}"),
        await client.patch(f"/users/{user_id}", json={"full_name": "X"}),
        await client.delete(f"/users/{user_id}"),
    ):
        assert response.status_code == 422, response.request
        assert response.json()["detail"][0]["loc"] == ["path", "user_id"]


async def test_the_largest_id_is_just_missing(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/users/{BIGINT_MAX}")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"after_id": BIGINT_MAX + 1}, "after_id"),
        ({"after_id": -1}, "after_id"),
        ({"full_name": "Ann\x00"}, "full_name"),
        ({"full_name": "   "}, "full_name"),
    ],
)
async def test_a_bad_filter_is_422(
    client: httpx.AsyncClient, params: dict[str, str | int], name: str
) -> None:
    response = await client.get("/users", params=params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", name]


async def test_the_last_page_after_the_largest_id_is_empty(client: httpx.AsyncClient) -> None:
    response = await client.get("/users", params={"after_id": BIGINT_MAX})

    assert response.json() == {"items": [], "next_after_id": None}


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


async def test_update_changes_only_given_fields(client: httpx.AsyncClient, token: str) -> None:
    created = await create(client, f"eve-{token}@example.com", f"Eve {token}")

    response = await client.patch(
        f"/users/{created['id']}", json={"full_name": f"Eve Adams {token}", "role": "admin"}
    )

    assert response.status_code == 200
    assert response.json() == {**created, "full_name": f"Eve Adams {token}", "role": "admin"}
    fetched = (await client.get(f"/users/{created['id']}")).json()
    assert fetched["full_name"] == f"Eve Adams {token}"


async def test_update_to_null_is_422_and_changes_nothing(
    client: httpx.AsyncClient, token: str
) -> None:
    created = await create(client, f"fay-{token}@example.com", f"Fay {token}")

    response = await client.patch(f"/users/{created['id']}", json={"full_name": None})

    assert response.status_code == 422
    assert "may be omitted but not null" in response.json()["detail"][0]["msg"]
    assert (await client.get(f"/users/{created['id']}")).json() == created


async def test_update_to_a_taken_email_is_409_and_changes_nothing(
    client: httpx.AsyncClient, token: str
) -> None:
    await create(client, f"gus-{token}@example.com", f"Gus {token}")
    hal = await create(client, f"hal-{token}@example.com", f"Hal {token}")

    response = await client.patch(f"/users/{hal['id']}", json={"email": f"gus-{token}@example.com"})

    assert response.status_code == 409
    assert (await client.get(f"/users/{hal['id']}")).json() == hal


async def test_delete(client: httpx.AsyncClient, token: str) -> None:
    created = await create(client, f"ivy-{token}@example.com", f"Ivy {token}")

    response = await client.delete(f"/users/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/users/{created['id']}")).status_code == 404
    assert await named(client, f"Ivy {token}") == []


async def test_pages_cover_every_user_once_in_id_order(
    client: httpx.AsyncClient, token: str
) -> None:
    name = f"Page {token}"
    made = [(await create(client, f"page{i}-{token}@example.com", name))["id"] for i in range(7)]

    seen: list[int] = []
    after_id: int | None = None
    while True:
        params: dict[str, Any] = {"full_name": name, "limit": 3}
        if after_id is not None:
            params["after_id"] = after_id
        page = (await client.get("/users", params=params)).json()
        seen += [user["id"] for user in page["items"]]
        assert len(page["items"]) <= 3
        after_id = page["next_after_id"]
        if after_id is None:
            break

    assert seen == sorted(made)


async def test_the_unfiltered_list_pages_in_id_order(client: httpx.AsyncClient, token: str) -> None:
    made = [(await create(client, f"all{i}-{token}@example.com"))["id"] for i in range(3)]

    page = (await client.get("/users", params={"limit": 2, "after_id": made[0] - 1})).json()

    # Ids only grow, and nothing else writes while the API tests run.
    assert [user["id"] for user in page["items"]] == made[:2]
    assert page["next_after_id"] == made[1]


async def test_a_row_inserted_between_pages_is_neither_repeated_nor_skipped(
    client: httpx.AsyncClient, token: str
) -> None:
    name = f"Live {token}"
    for i in range(4):
        await create(client, f"live{i}-{token}@example.com", name)
    first = (await client.get("/users", params={"full_name": name, "limit": 2})).json()

    late = await create(client, f"late-{token}@example.com", name)
    rest = await client.get(
        "/users", params={"full_name": name, "limit": 100, "after_id": first["next_after_id"]}
    )

    ids = [u["id"] for u in first["items"]] + [u["id"] for u in rest.json()["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert late["id"] in ids


@pytest.mark.parametrize("limit", [0, -1, 101, "many"])
async def test_bad_page_size_is_422(client: httpx.AsyncClient, limit: int | str) -> None:
    response = await client.get("/users", params={"limit": limit})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_an_admin_can_be_created(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        "/users",
        json={"email": f"root-{token}@example.com", "full_name": "Root", "role": "admin"},
    )

    assert response.status_code == 201
    assert response.json()["role"] == "admin"


async def test_filter_by_full_name_pages_in_id_order(client: httpx.AsyncClient, token: str) -> None:
    twins = [
        await create(client, f"twin{i}-{token}@example.com", f"Sam Twin {token}") for i in range(3)
    ]
    await create(client, f"other-{token}@example.com", f"Sam Other {token}")

    params: dict[str, str | int] = {"full_name": f"Sam Twin {token}", "limit": 2}
    first = (await client.get("/users", params=params)).json()
    rest = (
        await client.get("/users", params={**params, "after_id": first["next_after_id"]})
    ).json()

    assert [u["id"] for u in first["items"] + rest["items"]] == [t["id"] for t in twins]
    assert rest["next_after_id"] is None


async def test_concurrent_changes_and_deletes_of_one_row_never_fail(
    client: httpx.AsyncClient, token: str
) -> None:
    """PATCHes and DELETEs of the same user at the same moment: each is applied whole or finds
    the user gone, never a 500."""
    for round_ in range(5):
        user = await create(client, f"race{round_}-{token}@example.com", f"Race {token}")
        path = f"/users/{user['id']}"
        requests = [
            *(client.patch(path, json={"full_name": f"Race {i} {token}"}) for i in range(6)),
            *(client.patch(path, json={"role": "admin"}) for _ in range(2)),
            *(client.delete(path) for _ in range(3)),
        ]

        responses = await asyncio.gather(*requests)

        patches, deletes = responses[:8], responses[8:]
        assert {r.status_code for r in patches} <= {200, 404}, [r.text for r in patches]
        assert sorted(r.status_code for r in deletes) == [204, 404, 404]
        assert (await client.get(path)).status_code == 404


async def test_the_document_offers_no_null_for_a_field_that_refuses_it(
    client: httpx.AsyncClient,
) -> None:
    """email, full_name and role may be left out of an update (and role of a create), never
    sent as null: the OpenAPI document must not offer null for them."""
    components = (await document(client))["components"]["schemas"]

    offered = [
        place
        for schema in ("UserCreate", "UserUpdate")
        for name in ("email", "full_name", "role")
        for place in nullable_places(
            components[schema]["properties"][name], components, f"{schema}.{name}"
        )
    ]

    assert offered == []
