"""The requests the rehearsal sends: the one place it knows the service's API.

A mix of reads and writes of the users resource, as clients of the live release send them.
Each request answers None when it worked, or why not (the status and the request); a lost
connection or a timeout counts as failed too (tests/release/load.py). Every create the service
acknowledged (201) is read back once the rollout is over, through the new release: an
acknowledged row that is gone was lost. Change this file with the API (a service that replaces
`users` replaces these requests).
"""

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

# Shares of each kind of request; a service reads more than it writes.
MIX = {"read": 0.5, "list": 0.1, "create": 0.25, "update": 0.15}
SEED_USERS = 20


@dataclass
class Acknowledged:
    """What the service said it stored: each created user's location and email."""

    created: dict[str, str] = field(default_factory=dict)

    def any(self, rng: random.Random) -> str | None:
        return rng.choice(list(self.created)) if self.created else None


Request = Callable[[httpx.AsyncClient, Acknowledged, random.Random, str], Awaitable[str | None]]


def _unless(response: httpx.Response, expected: int) -> str | None:
    if response.status_code == expected:
        return None
    route = "/users/{id}" if response.request.url.path.count("/") > 1 else "/users"
    return f"{response.status_code} from {response.request.method} {route}"


async def create(
    client: httpx.AsyncClient, seen: Acknowledged, rng: random.Random, n: str
) -> str | None:
    email = f"rehearsal-{n}@example.com"
    response = await client.post("/users", json={"email": email, "full_name": f"Rehearsal {n}"})
    if (problem := _unless(response, 201)) is None:
        seen.created[response.headers["location"]] = email
    return problem


async def read(
    client: httpx.AsyncClient, seen: Acknowledged, rng: random.Random, n: str
) -> str | None:
    location = seen.any(rng)
    if location is None:
        return await create(client, seen, rng, n)
    return _unless(await client.get(location), 200)


async def list_(
    client: httpx.AsyncClient, seen: Acknowledged, rng: random.Random, n: str
) -> str | None:
    return _unless(await client.get("/users", params={"limit": 20}), 200)


async def update(
    client: httpx.AsyncClient, seen: Acknowledged, rng: random.Random, n: str
) -> str | None:
    location = seen.any(rng)
    if location is None:
        return await create(client, seen, rng, n)
    return _unless(await client.patch(location, json={"full_name": f"Renamed {n}"}), 200)


REQUESTS: dict[str, Request] = {"read": read, "list": list_, "create": create, "update": update}


async def lost(client: httpx.AsyncClient, seen: Acknowledged) -> list[str]:
    """The acknowledged creates that the service no longer has, or has with another email."""
    missing = []
    for location, email in seen.created.items():
        response = await client.get(location)
        if response.status_code != 200 or response.json().get("email") != email:
            missing.append(location)
    return missing
