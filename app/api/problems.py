"""The bodies of the errors this API answers on purpose, and how routes declare them.

Every error body has FastAPI's shape, `{"detail": ...}`: a sentence, or for a 422 a list of
what is wrong where. A 422 here never echoes what was sent (FastAPI's own handler returns each
bad input whole, a 100 kB string included): it names the place and the rule, for at most
`MAX_VALIDATION_ISSUES` issues, so the answer to a bad request is always small and encodable.

Routes declare what they may answer with the `Responses` below, so that the OpenAPI document
lists every status a client can get from each operation (tests/api/test_openapi.py checks it).
"""

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.routing import Match

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_VALIDATION_ISSUES = 20
# A location or message longer than this is cut short: both may hold text the client sent (the
# name of an unknown field, part of an email address).
MAX_TEXT_LENGTH = 100


class Problem(BaseModel):
    """The body of every error but the 422 (FastAPI's own shape)."""

    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """What is wrong with the request, and where: the first 20 issues found."""

    detail: list[ValidationIssue]


def _shown(text: str) -> str:
    # A lone surrogate (from a JSON "\ud800" escape) has no UTF-8 form: shown as "?".
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= MAX_TEXT_LENGTH else text[: MAX_TEXT_LENGTH - 1] + "…"


def _issue(error: dict[str, Any]) -> dict[str, Any]:
    message = str(error["msg"])
    reason = (error.get("ctx") or {}).get("error")
    if error["type"] == "json_invalid" and isinstance(reason, str):
        message = f"{message}: {reason}"  # "JSON decode error: Expecting ',' delimiter"
    return {
        "loc": [part if isinstance(part, int) else _shown(str(part)) for part in error["loc"]],
        "msg": _shown(message),
        "type": str(error["type"]),
    }


async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [_issue(error) for error in exc.errors()[:MAX_VALIDATION_ISSUES]]
    return JSONResponse({"detail": issues}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """A 405 whose `Allow` names every method of the path, as RFC 9110 asks: Starlette's names
    only those of the first route that matched the path (POST /users, but not GET /users)."""
    # Asked of the router itself: an included router hides its routes behind a wrapper.
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return JSONResponse(
        {"detail": "Method Not Allowed"},
        status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
        headers={"Allow": ", ".join(allowed)},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED, method_not_allowed)


Responses = dict[int | str, dict[str, Any]]


def problem(code: int, description: str, **extra: Any) -> Responses:
    """One error answer of a route, for its `responses=`."""
    return {code: {"model": Problem, "description": description, **extra}}


# Any operation with parameters or a body (in place of FastAPI's own 422 declaration).
INVALID: Responses = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "model": ValidationProblem,
        "description": "The request breaks a rule of the schema; each issue names the field",
    }
}
# An operation that reads a JSON body (app.body_limit sets the size limit).
BODY: Responses = {
    **problem(status.HTTP_400_BAD_REQUEST, "The body is not UTF-8, or nests too deeply"),
    **problem(status.HTTP_413_CONTENT_TOO_LARGE, "The body is larger than the limit"),
    **INVALID,
}
# An operation that uses the database (app.errors).
DATABASE: Responses = problem(
    status.HTTP_503_SERVICE_UNAVAILABLE,
    "The database is unavailable; try again after Retry-After seconds",
    headers={"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
)
