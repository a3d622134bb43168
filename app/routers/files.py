"""GET /v1/files/images/{name}: the images this gateway generated, served to anyone who has the link."""

from __future__ import annotations

from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime

from fastapi import Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from app.deps import files
from app.errors import NotFound
from app.openapi import documented
from app.route import Routes
from app.serving.images import FILES_PATH
from app.storage import NAME
from app.storage.base import MEDIA_TYPES, Stored

route = Routes(tags=["files"])
PATH = FILES_PATH + "{name:path}"  # the one place image URLs are built (serving/images.py) names it too

# A file never changes once written (a new image gets a new name), so clients may keep it for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"
IMAGES = tuple(MEDIA_TYPES.values())


@route.head(PATH, doc=documented(404, key=False, answers=IMAGES))
@route.get(PATH, doc=documented(404, key=False, answers=IMAGES))
async def get_image_file(request: Request, name: str) -> Response:
    """A generated image. No API key is needed (a browser showing the picture in a chat window has none):
    the name, 128 random bits, is the capability. Cached for a year; `If-None-Match` (or, without it,
    `If-Modified-Since` not before `Last-Modified`) answers 304."""
    stored = await files(request).get(name) if NAME.fullmatch(name) else None
    if stored is None:
        raise NotFound("No such file (it may have expired).", param="name", code="file_not_found")
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": stored.etag,
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if stored.stat is not None:
        headers["Last-Modified"] = formatdate(stored.stat.st_mtime, usegmt=True)
    if _not_modified(request, stored):
        return Response(status_code=304, headers=headers)
    if stored.redirect is not None:
        return RedirectResponse(stored.redirect, status_code=302, headers=headers)
    assert stored.path is not None
    # FileResponse hands the path to the server's `http.response.pathsend`: sent with sendfile, no byte of the
    # file passes through Python (app/pathsend.py; chunked reads where the server cannot, e.g. TLS).
    return FileResponse(stored.path, media_type=stored.media_type, headers=headers, stat_result=stored.stat)


def _not_modified(request: Request, stored: Stored) -> bool:
    """RFC 9110, 13.2.2: If-None-Match when sent, else If-Modified-Since (the route is GET and HEAD only)."""
    etags = request.headers.get("if-none-match")
    if etags is not None:
        return _matches(etags, stored.etag)
    since = _http_date(request.headers.get("if-modified-since"))
    return since is not None and stored.stat is not None and int(stored.stat.st_mtime) <= since


def _http_date(value: str | None) -> float | None:
    """The timestamp of an HTTP-date (any of its three forms), or None for anything else: a date that cannot be
    read, or a list of them (an IMF-fixdate has one comma), is ignored as RFC 9110, 13.1.3 says."""
    if not value or value.count(",") > 1:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()  # asctime's form has no zone: GMT


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates
