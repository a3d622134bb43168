"""The edge's `ReadRequest` (a hot route's request, its body already read) is a whole Starlette Request:
it sets Request's fields itself (app/edge.py says why), so a Starlette release that adds or renames one
must fail here rather than in a handler."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from app.edge import ReadRequest

SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/v1/chat/completions",
    "query_string": b"token=abc",
    "headers": [(b"content-type", b"application/json"), (b"x-api-key", b"k")],
}
BODY = b'{"model": "m", "messages": []}'


def test_it_has_every_field_a_starlette_request_has() -> None:
    built = ReadRequest(dict(SCOPE), BODY)
    assert set(vars(Request(dict(SCOPE)))) <= set(vars(built))
    assert set(vars(built)) - set(vars(Request(dict(SCOPE)))) == {"_body"}


def test_its_body_stream_json_and_head_read_as_a_requests_do() -> None:
    async def read() -> tuple[bytes, bytes, object]:
        request = ReadRequest(dict(SCOPE), BODY)
        streamed = b"".join([chunk async for chunk in request.stream()])
        return await request.body(), streamed, await request.json()

    body, streamed, parsed = asyncio.run(read())
    assert body == streamed == BODY
    assert parsed == {"model": "m", "messages": []}
    request = ReadRequest(dict(SCOPE), BODY)
    assert request.headers["x-api-key"] == "k"
    assert request.query_params["token"] == "abc"
    assert request.url.path == "/v1/chat/completions"
    assert request.method == "POST"
