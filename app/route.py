"""A route is declared once, next to its handler: path, methods, body limit, dialect, hot or not, OpenAPI text.

    route = Routes(prefix="/v1", tags=["text"])                      # in app/routers/<resource>.py
    @route.post("/chat/completions", hot=True, body=ChatCompletionRequest,
                doc=documented(*CALLS_UPSTREAM, streamed=True))
    async def create_chat_completion(request: Request) -> Response: ...

That is all: the app finds every `Routes` in the `app.routers` package (app/edge.py), serves `hot` POSTs in
its fast lane, renders every error aimed at the route in its dialect (`dialect=`, else the `Routes`'s, else
OpenAI's), limits its body to `max_body` bytes (else MAX_BODY_BYTES) and documents `body` in /openapi.json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel

from app.dialects import OPENAI, Dialect
from app.openapi import Doc

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True, slots=True)
class Declared:
    """One declared route, as the edge and /openapi.json see it."""

    path: str  # the whole path, the `Routes` prefix included
    methods: tuple[str, ...]
    handler: Callable[..., Awaitable[Any]]
    dialect: Dialect
    hot: bool = False  # a JSON POST served by the fast lane, in front of FastAPI's routing
    body: type[BaseModel] | None = None  # the JSON body the handler reads itself, for /openapi.json
    max_body: int | None = None  # bytes; None: MAX_BODY_BYTES


class Routes:
    """The routes of one resource: a FastAPI router (which routes and documents them) and their declarations.

    `owns` are path prefixes whose every path speaks `dialect`, declared or not (`/v2/` for the DeepL API), so
    an unknown path or a wrong method aimed at them is refused in the shape their clients parse."""

    def __init__(
        self, *, prefix: str = "", tags: Sequence[str] = (), dialect: Dialect = OPENAI, owns: Iterable[str] = ()
    ) -> None:
        self.router = APIRouter(prefix=prefix, tags=list(tags))
        self.prefix = prefix
        self.dialect = dialect
        self.owns = tuple(owns)
        self.declared: list[Declared] = []

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, ("POST",), **options)

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, ("GET",), **options)

    def head(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, ("HEAD",), **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, ("DELETE",), **options)

    def route(
        self,
        path: str,
        methods: tuple[str, ...],
        *,
        hot: bool = False,
        body: type[BaseModel] | None = None,
        doc: Doc | None = None,
        dialect: Dialect | None = None,
        max_body: int | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Declare `methods` on `path` (under the prefix) for the decorated handler."""
        if hot and methods != ("POST",):
            raise ValueError(f"{path}: only a POST can be hot (the fast lane reads a JSON body)")
        speaks = dialect or self.dialect

        def declare(handler: Handler) -> Handler:
            documentation = doc.speaking(speaks) if doc is not None else {}
            self.router.add_api_route(
                path, handler, methods=list(methods), include_in_schema=include_in_schema, **documentation
            )
            self.declared.append(Declared(self.prefix + path, methods, handler, speaks, hot, body, max_body))
            return handler

        return declare


class Dialects:
    """Which dialect a path speaks, from the declarations: its route's; else that of the longest declared path
    it is under (`/v1/messages/nope`) or prefix owned (`/v2/nope`); else OpenAI's."""

    def __init__(self, all_routes: Iterable[Routes]) -> None:
        self.exact: dict[str, Dialect] = {}
        prefixes: dict[str, Dialect] = {}
        for routes in all_routes:
            for declared in routes.declared:
                stem, template, _ = declared.path.partition("{")  # `/v1/files/{id}`: all under `/v1/files/`
                if not template:
                    self.exact.setdefault(stem, declared.dialect)
                if declared.dialect is not OPENAI:
                    prefixes.setdefault(stem if template else stem.rstrip("/") + "/", declared.dialect)
            prefixes.update(dict.fromkeys(routes.owns, routes.dialect))
        self.prefixes = sorted(prefixes.items(), key=lambda item: -len(item[0]))  # the most precise first

    def of(self, path: str) -> Dialect:
        dialect = self.exact.get(path)
        if dialect is None:
            dialect = next((d for prefix, d in self.prefixes if path.startswith(prefix)), OPENAI)
        return dialect
