"""What kind of file some bytes are, by their leading bytes (the label a client or server puts on them
decides nothing): images (fetched image URLs, uploads to edit, what image models answer) and audio
(uploads to transcribe). Pure."""

from __future__ import annotations

SNIFF_BYTES = 12  # enough for every signature below
KINDS = "PNG, JPEG, GIF or WebP"

# Leading bytes -> (extension, media type).
_IMAGES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
)

# Leading bytes at an offset -> (format, media type). What OpenAI accepts (flac, mp3, mp4, mpeg, mpga,
# m4a, ogg, wav, webm), plus ADTS AAC, which Whisper's decoder opens too.
_AUDIO: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"fLaC", "flac", "audio/flac"),
    (0, b"OggS", "ogg", "audio/ogg"),
    (0, b"ID3", "mp3", "audio/mpeg"),
    (0, b"\x1aE\xdf\xa3", "webm", "audio/webm"),
    (4, b"ftyp", "mp4", "audio/mp4"),
)


def image_format(head: bytes) -> tuple[str, str] | None:
    """(extension, media type) of an image starting with `head` (at least SNIFF_BYTES of it), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "image/webp"
    for magic, ext, media_type in _IMAGES:
        if head.startswith(magic):
            return ext, media_type
    return None


def image_type(head: bytes) -> str | None:
    """The media type of an image starting with `head`, or None."""
    found = image_format(head)
    return found[1] if found else None


def image_ext(head: bytes) -> str | None:
    """The image format of `head` as a file extension ("png", "jpg", "webp", "gif"), or None."""
    found = image_format(head)
    return found[0] if found else None


def audio_format(head: bytes) -> tuple[str, str] | None:
    """The audio format and media type the leading bytes announce, or None for anything else."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav", "audio/wav"
    for offset, magic, name, media_type in _AUDIO:
        if head[offset : offset + len(magic)] == magic:
            return name, media_type
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x03
        return ("mp3", "audio/mpeg") if layer else ("aac", "audio/aac")  # MPEG frame sync / ADTS
    return None


def labelled_as_image(content_type: str) -> bool:
    """A Content-Type an image may come with: an image type, or none in particular (many stores say
    octet-stream for everything). text/html and the like mean the URL is not an image."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("image/") or kind in ("", "application/octet-stream", "binary/octet-stream")
