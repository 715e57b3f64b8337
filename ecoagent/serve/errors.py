"""Errors in OpenAI's shape, so every OpenAI client reports them as it reports OpenAI's own.

``{"error": {"message", "type", "param", "code"}}`` with the matching status: the
``openai`` SDK turns a 400 into ``BadRequestError``, a 401 into ``AuthenticationError``,
a 429 into ``RateLimitError`` and so on, and shows the message. Nothing else ever
reaches a client: an unexpected exception is logged on the server and answered with
a 500 that says where to look, never with a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["APIError", "error_body", "install_handlers"]

log = logging.getLogger("ecoagent.serve")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "insufficient_quota",
    500: "server_error",
    503: "server_overloaded",
}


class APIError(Exception):
    """A request the server refuses, with what to tell the client.

    Args:
        status: The HTTP status.
        message: What was wrong and what to do, naming the field where there is one.
        param: The request field at fault (``messages[2].role``), if any.
        code: A short machine-readable code (``model_not_found``, ``budget_exceeded``).
        headers: Extra response headers (``Retry-After`` on a 503).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        return error_body(self.status, self.message, param=self.param, code=self.code)

    def response(self) -> JSONResponse:
        """The error as a response."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(status: int, message: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error object."""
    return {
        "error": {"message": message, "type": _TYPES.get(status, "invalid_request_error"), "param": param, "code": code}
    }


def install_handlers(app: FastAPI) -> None:
    """Answer every error the app can meet in OpenAI's shape."""

    def counted(request: Request, status: int) -> None:
        service = getattr(request.app.state, "service", None)
        if service is not None:
            service.metrics.rejected.labels(str(status)).inc()

    @app.exception_handler(APIError)
    async def _api(request: Request, exc: APIError) -> JSONResponse:
        counted(request, exc.status)
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body", "header")]
        where = ".".join(loc) or None
        counted(request, 400)
        message = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
        return JSONResponse(error_body(400, message, param=where, code="invalid_value"), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = (
                f"no such endpoint: {request.method} {request.url.path} (see GET /v1/models, POST /v1/chat/completions)"
            )
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return JSONResponse(error_body(exc.status_code, message), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body(500, "the server failed on this request; its log has the details", code="internal_error"),
            status_code=500,
        )
