"""Request bodies over MAX_REQUEST_BODY_BYTES are answered 413 before they are held in memory.

A body whose Content-Length is over the limit is refused before a byte of it is read; one sent
in chunks is counted as it arrives and refused at the first chunk past the limit. Either way
the answer is the API's usual `{"detail": ...}` in JSON.

Starlette's RequestBodyLimitMiddleware (FastAPI's `max_body_size`) counts the same way, but
replaces every answer to a request whose Content-Length is over the limit with a plain-text
"Content Too Large", so the body of the 413 would depend on how the client sent its request.
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def detail(self) -> str:
        return f"The request body is larger than the limit of {self.max_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await JSONResponse({"detail": self.detail()}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes an HTTPException raised while it reads the body on to the
                    # exception handlers (any other error becomes a 400), which answer in JSON.
                    raise HTTPException(413, self.detail())
            return message

        await self.app(scope, counted, send)
