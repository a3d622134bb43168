"""Image URLs in chat messages, fetched and put in place as data URIs before the (pure) conversion."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from app.errors import InvalidRequest
from app.fetch.addresses import Refused
from app.fetch.lazy import LazyImageFetcher

if TYPE_CHECKING:
    from app.fetch.images import ImageFetcher
from app.protocol.openai import ChatCompletionRequest, ImageURL

CONCURRENT_FETCHES = 4  # per request: several images arrive sooner, and one request opens few connections


def remote_images(request: ChatCompletionRequest) -> list[tuple[str, ImageURL]]:
    """The image parts that carry a web address (not a data URI), each with its `param` path."""
    found: list[tuple[str, ImageURL]] = []
    for i, message in enumerate(request.messages):
        if isinstance(message.content, list):
            for j, part in enumerate(message.content):
                image = part.image_url
                if part.type == "image_url" and image is not None and not image.url.startswith("data:"):
                    found.append((f"messages[{i}].content[{j}].image_url.url", image))
    return found


async def fetch_images(images: list[tuple[str, ImageURL]], lazy: LazyImageFetcher | None) -> None:
    """Replace each URL by the data URI of the image it points at; the first refusal (in message order)
    is a 400 naming its part, and no other image is waited for."""
    if lazy is None:
        param = images[0][0]
        raise InvalidRequest(
            "This gateway does not fetch image URLs; send the image as a data URI (data:image/png;base64,...).",
            param=param,
            code="invalid_image_url",
        )
    fetcher = await lazy.get()
    if len(images) == 1:
        await _fetch_one(*images[0], fetcher)
        return
    limit = asyncio.Semaphore(CONCURRENT_FETCHES)

    async def bounded(param: str, image: ImageURL) -> None:
        async with limit:
            await _fetch_one(param, image, fetcher)

    try:
        async with asyncio.TaskGroup() as group:
            for param, image in images:
                group.create_task(bounded(param, image))
    except ExceptionGroup as failures:
        errors = [e for e in failures.exceptions if isinstance(e, InvalidRequest)]
        if len(errors) < len(failures.exceptions):
            raise
        order = [param for param, _ in images]
        raise min(errors, key=lambda e: order.index(e.param or "")) from None


async def _fetch_one(param: str, image: ImageURL, fetcher: ImageFetcher) -> None:
    try:
        fetched = await fetcher.fetch(image.url)
    except Refused as refused:
        raise InvalidRequest(
            f"The image at {param} could not be used: {refused.reason}.", param=param, code="invalid_image_url"
        ) from None
    image.url = await asyncio.to_thread(fetched.data_uri)  # base64 of up to IMAGE_URL_MAX_BYTES
