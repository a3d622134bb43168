"""Reading a multipart/form-data upload the way the `openai` package and curl send it: the one reader of
every upload route (audio files, images to edit), each with its own file fields and size limit.

Files are spooled (in memory up to SPOOL_BYTES, then a temporary file on disk, written off the event loop),
never held whole in memory; text fields are capped. A file over its limit is not an early hang-up: the
rest of the body is read and dropped (the body as a whole stays under MAX_BODY_BYTES, which the edge
enforces), then the 413 is sent, so the client, still uploading, reliably receives it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import IO

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.errors import InvalidRequest, PayloadTooLarge

SPOOL_BYTES = 1024 * 1024
HEAD_BYTES = 64  # kept in memory for sniffing the format
MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 100


@dataclass
class Upload:
    """One uploaded file, spooled."""

    name: str
    filename: str
    content_type: str
    file: SpooledTemporaryFile[bytes] = field(default_factory=lambda: SpooledTemporaryFile(max_size=SPOOL_BYTES))
    size: int = 0
    head: bytes = b""

    def stream(self) -> IO[bytes]:
        """The file from its start (blocking reads: call them in a thread)."""
        self.file.seek(0)
        return self.file

    def read(self) -> bytes:
        """All of it, as one bytes object (blocking: call it in a thread)."""
        return self.stream().read()


@dataclass
class Form:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[Upload]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[-1] if values else None

    def getlist(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def file(self, name: str) -> Upload | None:
        """The first file sent as `name`, if any."""
        uploads = self.files.get(name)
        return uploads[0] if uploads else None

    def close(self) -> None:
        for uploads in self.files.values():
            for upload in uploads:
                upload.file.close()


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    data: bytearray = field(default_factory=bytearray)
    upload: Upload | None = None
    skipped: bool = False


class _Reader:
    """python-multipart's callbacks, collecting fields and the pending writes of file data."""

    def __init__(self, file_fields: dict[str, int], max_file_bytes: int) -> None:
        self.form = Form()
        self.file_fields = file_fields
        self.max_file_bytes = max_file_bytes
        self.part = _Part()
        self.header = (bytearray(), bytearray())
        self.parts = 0
        self.pending: list[tuple[Upload, bytes]] = []
        self.too_large: str | None = None

    def on_part_begin(self) -> None:
        self.part = _Part()
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise InvalidRequest(f"The form has more than {MAX_PARTS} parts.", code="invalid_multipart")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header[0].extend(data[start:end])

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header[1].extend(data[start:end])

    def on_header_end(self) -> None:
        self.part.headers[bytes(self.header[0]).lower()] = bytes(self.header[1])
        self.header = (bytearray(), bytearray())

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            return
        if len(self.form.files.get(self.part.name, ())) >= self.file_fields.get(self.part.name, 0):
            self.part.skipped = True  # a file the endpoint does not take (or one too many): ignored
            return
        content_type = self.part.headers.get(b"content-type", b"application/octet-stream").decode("latin-1")
        self.part.upload = Upload(self.part.name, filename.decode("utf-8", "replace"), content_type)
        self.form.files.setdefault(self.part.name, []).append(self.part.upload)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        upload, chunk = self.part.upload, data[start:end]
        if self.part.skipped:
            return
        if upload is None:
            if len(self.part.data) + len(chunk) > MAX_FIELD_BYTES:
                raise InvalidRequest(
                    f"The form field '{self.part.name}' is longer than {MAX_FIELD_BYTES} bytes.",
                    param=self.part.name or None,
                    code="invalid_value",
                )
            self.part.data.extend(chunk)
            return
        upload.size += len(chunk)
        if upload.size > self.max_file_bytes:
            self.too_large = upload.name
            return
        if len(upload.head) < HEAD_BYTES:
            upload.head += chunk[: HEAD_BYTES - len(upload.head)]
        self.pending.append((upload, chunk))

    def on_part_end(self) -> None:
        if self.part.upload is None and not self.part.skipped and self.part.name:
            self.form.fields.setdefault(self.part.name, []).append(self.part.data.decode("utf-8", "replace"))

    def callbacks(self) -> dict[str, object]:
        names = ("part_begin", "header_field", "header_value", "header_end", "headers_finished", "part_data")
        found: dict[str, object] = {f"on_{name}": getattr(self, f"on_{name}") for name in names}
        found["on_part_end"] = self.on_part_end
        return found


async def _flush(reader: _Reader) -> None:
    for upload, chunk in reader.pending:
        if upload.file.tell() + len(chunk) > SPOOL_BYTES:  # on disk past SPOOL_BYTES (and the roll-over itself)
            await asyncio.to_thread(upload.file.write, chunk)
        else:
            upload.file.write(chunk)
    reader.pending.clear()


def _boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise InvalidRequest(
            "This endpoint takes multipart/form-data (file parts and form fields).", code="invalid_content_type"
        )
    return options[b"boundary"]


async def read_form(request: Request, *, file_fields: dict[str, int], max_file_bytes: int) -> Form:
    """The form's fields and its spooled files (`file_fields`: how many files each field takes; others are
    ignored); 400 for a malformed body, 413 naming the field for a file over `max_file_bytes`."""
    reader = _Reader(file_fields, max_file_bytes)
    parser = MultipartParser(_boundary(request), reader.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            await _flush(reader)
        parser.finalize()
    except MultipartParseError:
        reader.form.close()
        raise InvalidRequest("The multipart body is malformed.", code="invalid_multipart") from None
    except BaseException:
        reader.form.close()
        raise
    if reader.too_large is not None:
        reader.form.close()
        raise PayloadTooLarge(
            f"The uploaded `{reader.too_large}` is larger than this gateway accepts ({max_file_bytes} bytes).",
            param=reader.too_large,
            code="file_too_large",
        )
    return reader.form
