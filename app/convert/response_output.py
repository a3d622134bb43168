"""Chat answers -> the Responses API's Response object and output items, as JSON bytes. Pure.

Everything here is built as bytes, from fragments worked out once per answer: a streamed answer repeats
the Response object three times (created, in_progress, completed) and each output item's text up to
four times (the `.done` events, the completed response), and the stored copy is the same bytes again.
Building dicts and encoding each copy cost a Responses request 60% more than a chat completion.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.convert.results import Choice, Usage, new_id

INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
NULL = b"null"
_USAGE = (
    b'{"input_tokens":%d,"input_tokens_details":{"cached_tokens":%d},"output_tokens":%d,'
    b'"output_tokens_details":{"reasoning_tokens":%d},"total_tokens":%d}'
)


class Answer:
    """One answer's identity and the request fields a Response object repeats back, pre-encoded."""

    __slots__ = ("_echo", "_head", "_items", "_model", "created_at", "id", "model", "namespaces")

    def __init__(self, response_id: str, created_at: int, model: str, echo: bytes) -> None:
        """`echo`: the request fields repeated back, as JSON members (`echo_json`)."""
        self.id, self.created_at, self.model = response_id, created_at, model
        self.namespaces: dict[str, str] = {}  # function name -> the `namespace` tool it came in (Codex's)
        self._items = 0
        self._head = b'{"id":"%b","object":"response","created_at":%d,"status":"' % (response_id.encode(), created_at)
        self._model = _MODEL_PARTS.get(model) or _model_part(model)
        self._echo = b"," + echo + b',"usage":'

    @classmethod
    def new(cls, model: str, created_at: int, echo: bytes) -> Answer:
        return cls(new_id("resp_"), created_at, model, echo)

    def item_id(self, prefix: str) -> str:
        """An output item's id: the response's random part and the item's number (unique as the response
        id is, without drawing random bytes again per item)."""
        self._items += 1
        return f"{prefix}{self.id[5:]}{self._items:02x}"

    def response(
        self, status: str, output: bytes, usage: bytes = NULL, *, incomplete: bytes = NULL, error: bytes = NULL
    ) -> bytes:
        """The Response object; `output` a JSON array, `usage` from `usage_json` (null while in progress)."""
        return b"".join(
            (
                self._head,
                status.encode(),
                b'","error":',
                error,
                b',"incomplete_details":',
                incomplete,
                self._model,
                output,
                self._echo,
                usage,
                b"}",
            )
        )


_MODEL_PARTS: dict[str, bytes] = {}


def _model_part(model: str) -> bytes:
    """The `model` member and the key after it, kept per model (a gateway names a few hundred at most)."""
    part = b',"model":' + orjson.dumps(model) + b',"output":'
    if len(_MODEL_PARTS) < 1024:
        _MODEL_PARTS[model] = part
    return part


def usage_json(usage: Usage, reasoning_tokens: int = 0) -> bytes:
    prompt, completion = usage.prompt_tokens, usage.completion_tokens
    return _USAGE % (prompt, usage.cached_tokens or 0, completion, reasoning_tokens, prompt + completion)


def ending(finish_reason: str) -> tuple[str, bytes]:
    """The status of a finished answer and its `incomplete_details` (JSON)."""
    reason = INCOMPLETE.get(finish_reason)
    if reason is None:
        return "completed", NULL
    return "incomplete", b'{"reason":"%b"}' % reason.encode()


def text_part(text_json: bytes) -> bytes:
    return b'{"type":"output_text","text":' + text_json + b',"annotations":[],"logprobs":[]}'


_MESSAGE = (
    b'{"id":"%b","type":"message","status":"%b","role":"assistant","content":['
    b'{"type":"output_text","text":%b,"annotations":[],"logprobs":[]}]}'
)


def message_item(item_id: str, text_json: bytes, status: str = "completed") -> bytes:
    """An assistant message item (its one part as `text_part` makes it); `text_json` the text,
    JSON-encoded (ids are hex: no escaping)."""
    return _MESSAGE % (item_id.encode(), status.encode(), text_json)


def summary_part(text: str) -> dict[str, Any]:
    return {"type": "summary_text", "text": text}


def reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    return {"id": item_id, "type": "reasoning", "summary": [summary_part(text)] if text else []}


def call_item(
    answer: Answer, item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    """A function_call item; a function offered inside a `namespace` tool names it, as the client routes by it."""
    item = {"id": item_id, "type": "function_call", "status": status, "call_id": call_id, "name": name}
    namespace = answer.namespaces.get(name)
    if namespace is not None:
        item["namespace"] = namespace
    item["arguments"] = arguments
    return item


def output_of(answer: Answer, choice: Choice) -> bytes:
    """A chat choice as the output array: reasoning, then the message, then function calls."""
    if not choice.reasoning and not choice.tool_calls:  # most answers: one message
        status = "incomplete" if choice.finish_reason in INCOMPLETE else "completed"
        return b"[" + message_item(answer.item_id("msg_"), orjson.dumps(choice.content or ""), status) + b"]"
    items: list[bytes] = []
    if choice.reasoning:
        items.append(orjson.dumps(reasoning_item(answer.item_id("rs_"), choice.reasoning)))
    if choice.content or not choice.tool_calls:
        status = "incomplete" if choice.finish_reason in INCOMPLETE else "completed"
        items.append(message_item(answer.item_id("msg_"), orjson.dumps(choice.content or ""), status))
    for call in choice.tool_calls:
        fn = call["function"]
        items.append(orjson.dumps(call_item(answer, answer.item_id("fc_"), call["id"], fn["name"], fn["arguments"])))
    return b"[" + b",".join(items) + b"]"


def response_of(answer: Answer, choice: Choice, usage: Usage) -> bytes:
    status, incomplete = ending(choice.finish_reason)
    return answer.response(status, output_of(answer, choice), usage_json(usage), incomplete=incomplete)
