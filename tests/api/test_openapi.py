"""The OpenAPI document says what the API accepts and answers, read as a client reads it.

Generic over every operation the document lists: tests/test_api_fuzz.py then sends the API
what the document allows and what it does not, and checks every answer against it (null
included: where the document offers it, the API must take it).
"""

import re

import httpx

from tests.api.openapi import METHODS, document, operations


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
