"""The OpenAPI document says what the API accepts and answers, read as a client reads it.

Generic over every operation the document lists: tests/test_api_fuzz.py then sends the API
what the document allows and what it does not, and checks every answer against it.
"""

import re
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


async def test_nothing_a_request_sends_is_nullable(client: httpx.AsyncClient) -> None:
    """An optional field may be left out; null is refused, so the document must not offer it."""
    openapi = await document(client)
    components = openapi["components"]["schemas"]

    found = [
        place
        for method, path, operation in operations(openapi)
        for place in [
            *nullable_places(operation.get("requestBody"), components, f"{method} {path} body"),
            *nullable_places(operation.get("parameters"), components, f"{method} {path} params"),
        ]
    ]

    assert found == []


async def test_each_operation_documents_the_errors_its_input_can_cause(
    client: httpx.AsyncClient,
) -> None:
    undocumented = []
    for method, path, operation in operations(await document(client)):
        expected = set()
        if operation.get("parameters") or operation.get("requestBody"):
            expected.add("422")
        if operation.get("requestBody"):
            expected |= {"400", "413"}  # not UTF-8 or nested too deep; over the size limit
        if missing := expected - set(operation["responses"]):
            undocumented.append(f"{method} {path}: {sorted(missing)}")

    assert undocumented == []


async def test_a_method_a_path_lacks_is_405_naming_every_method_it_has(
    client: httpx.AsyncClient,
) -> None:
    openapi = await document(client)

    for path, item in openapi["paths"].items():
        documented = {method.upper() for method in item if method in METHODS}
        absent = sorted(m.upper() for m in METHODS if m not in item)[0]
        concrete = re.sub(r"\{[^}]+\}", "1", path)  # any value of each path parameter

        response = await client.request(absent, concrete)

        assert response.status_code == 405, (absent, path)
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert allowed - {"HEAD"} == documented, (path, response.headers["allow"])
