"""An image is told by its leading bytes; the label only rules out what is plainly not an image."""

from __future__ import annotations

import pytest

from app.convert.sniff import image_type, labelled_as_image
from tests.imageserver import GIF, JPEG, PNG, WEBP


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a" + bytes(10), "image/gif"),
        (WEBP, "image/webp"),
    ],
)
def test_each_format_is_known_by_its_signature(data: bytes, kind: str) -> None:
    assert image_type(data[:12]) == kind


@pytest.mark.parametrize(
    "data",
    [b"", b"\x89PNG", b"<!doctype html>", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"%PDF-1.7\n", b"<svg xmlns='...'>"],
)
def test_other_bytes_are_not_images(data: bytes) -> None:
    assert image_type(data[:12]) is None


@pytest.mark.parametrize("label", ["image/png", "IMAGE/JPEG; charset=binary", "", "application/octet-stream"])
def test_image_labels_and_none_in_particular_pass(label: str) -> None:
    assert labelled_as_image(label)


@pytest.mark.parametrize("label", ["text/html; charset=utf-8", "application/json", "text/plain"])
def test_labels_of_other_things_do_not(label: str) -> None:
    assert not labelled_as_image(label)
