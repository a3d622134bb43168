"""What kind of image some bytes are, by their leading bytes (the label a server puts on them decides nothing)."""

from __future__ import annotations

SNIFF_BYTES = 12  # enough for every signature below
KINDS = "PNG, JPEG, GIF or WebP"


def image_type(head: bytes) -> str | None:
    """The media type of an image starting with `head` (at least SNIFF_BYTES of it), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def labelled_as_image(content_type: str) -> bool:
    """A Content-Type an image may come with: an image type, or none in particular (many stores say
    octet-stream for everything). text/html and the like mean the URL is not an image."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("image/") or kind in ("", "application/octet-stream", "binary/octet-stream")
