"""The API's OpenAPI document, read as a client reads it: its operations, and where it offers
null."""

from collections.abc import Iterator
from typing import Any

import httpx

METHODS = {"get", "put", "post", "patch", "delete"}


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def nullable_places(schema: Any, components: dict[str, Any], where: str) -> Iterator[str]:
    """Every place in `schema` (references followed) that allows null."""
    if isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from nullable_places(item, components, f"{where}[{index}]")
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        yield from nullable_places(components[name], components, f"{where}->{name}")
        return
    types = schema.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types) or schema.get("nullable"):
        yield where
    for key, value in schema.items():
        yield from nullable_places(value, components, f"{where}.{key}")
