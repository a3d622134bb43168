"""The one CORS policy (CORS_ORIGINS), for every answer, hot or not, and the preflight (app/edge.py asks it).

What Starlette's CORSMiddleware did with `allow_methods=["*"]`, `allow_headers=["*"]`, no credentials: any
method, any requested header, `Access-Control-Max-Age: 600`; `Retry-After`, `X-Model-Substituted` and the
cache's `X-Cache`/`Cf-Aig-Cache-Status` readable by the page; with a list of origins the allowed one is
echoed with `Vary: Origin`.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Scope

from app.errors import InvalidRequest

Headers = list[tuple[bytes, bytes]]
METHODS = b"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
EXPOSED = (b"access-control-expose-headers", b"Retry-After, X-Model-Substituted, X-Cache, Cf-Aig-Cache-Status")
MAX_AGE = (b"access-control-max-age", b"600")
ALLOW_ORIGIN = b"access-control-allow-origin"
VARY = (b"vary", b"Origin")
NONE = ()


class Cors:
    def __init__(self, origins: list[str]) -> None:
        self.any_origin = "*" in origins
        self.origins = frozenset(origin.encode("latin-1") for origin in origins)

    def answer_headers(self, scope: Scope) -> Sequence[tuple[bytes, bytes]]:
        """What an answer to this request adds: nothing without an `Origin`, or for one not allowed. One
        scan of the head, and no other call for a request without `Origin` (an SDK's, a server's)."""
        for name, origin in scope["headers"]:
            if name == b"origin":
                allowed = self._allow(origin)
                return [*allowed, EXPOSED] if allowed else NONE
        return NONE

    def preflight(self, scope: Scope) -> Headers | None:
        """A browser's preflight (OPTIONS with `Origin` and `Access-Control-Request-Method`): the headers of its
        200; None for any other request. InvalidRequest (400) for an origin or a private network not allowed."""
        if scope["method"] != "OPTIONS":
            return None
        origin = _header(scope, b"origin")
        if origin is None or _header(scope, b"access-control-request-method") is None:
            return None
        allowed = self._allow(origin)
        if not allowed:
            raise InvalidRequest("Disallowed CORS origin: it is not in CORS_ORIGINS.", code="cors_origin_not_allowed")
        if _header(scope, b"access-control-request-private-network") is not None:
            raise InvalidRequest("Disallowed CORS private-network request.", code="cors_private_network")
        headers = [*allowed, (b"access-control-allow-methods", METHODS), MAX_AGE]
        requested = _header(scope, b"access-control-request-headers")
        if requested is not None:  # any header may be sent: the ones asked for are the ones allowed
            headers.append((b"access-control-allow-headers", requested))
        return headers

    def _allow(self, origin: bytes) -> Headers:
        if self.any_origin:
            return [(ALLOW_ORIGIN, b"*")]
        if origin in self.origins:
            return [(ALLOW_ORIGIN, origin), VARY]
        return []


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)
