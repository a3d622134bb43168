"""Which parts of a chat request are web image addresses to fetch, and the param each one is named by."""

from __future__ import annotations

from app.protocol.openai import ChatCompletionRequest
from app.serving.image_urls import remote_images


def test_only_image_parts_with_web_addresses_are_picked_with_their_param() -> None:
    request = ChatCompletionRequest.model_validate(
        {
            "model": "m",
            "messages": [
                {"role": "system", "content": "plain text"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "https://not-an-image-part.example/x.png"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                        {"type": "image_url", "image_url": {"url": "https://images.example/a.png"}},
                    ],
                },
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://b"}}]},
            ],
        }
    )
    found = [(param, image.url) for param, image in remote_images(request)]
    assert found == [
        ("messages[1].content[2].image_url.url", "https://images.example/a.png"),
        ("messages[2].content[0].image_url.url", "ftp://b"),
    ]


def test_a_request_without_images_has_none() -> None:
    request = ChatCompletionRequest.model_validate({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert remote_images(request) == []
