"""What OpenAI clients send (requests) for chat and legacy completions. Wire names, no logic.

Every bound (`app/protocol/limits.py`) is a constraint here, so the validator enforces exactly what
`/openapi.json` documents. The models are strict: `"stream": 0` or `"n": "2"` is a 400, as the schema's
types say, not coerced.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from app.protocol import limits


def _exact(value: dict[str, Any]) -> Any:
    """Free-form JSON (tool parameters, a JSON schema, tool call arguments) goes on to Workers AI as sent.
    orjson writes integers of up to 64 bits; one beyond (valid JSON, and valid in the schema) is carried
    exactly as pre-encoded JSON instead of failing the encoder later. Only such rare input pays for it."""
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return orjson.Fragment(json.dumps(value))  # the stdlib writes any integer exactly
    return value


def _as_is(value: Any) -> Any:
    return value


# Serialized as it is: a dict, or the pre-encoded Fragment `_exact` made (which orjson writes verbatim).
FreeJSON = Annotated[dict[str, Any], AfterValidator(_exact), PlainSerializer(_as_is)]
Name = Annotated[str, StringConstraints(max_length=limits.MAX_NAME_CHARS)]
ToolName = Annotated[str, StringConstraints(pattern=limits.TOOL_NAME)]
StopText = Annotated[str, StringConstraints(max_length=limits.MAX_STOP_CHARS)]


def _whole(low: int, high: int) -> Any:
    """An integer in [low, high]. JSON Schema counts `8.0` as an integer, so the validator does too (the
    float branch runs only for such input); strings and booleans are refused, as the schema says."""
    integral = Annotated[float, Field(ge=low, le=high, multiple_of=1), AfterValidator(int)]
    return Annotated[
        Annotated[int, Field(ge=low, le=high)] | integral,
        Field(union_mode="left_to_right"),
        WithJsonSchema({"type": "integer", "minimum": low, "maximum": high}),
    ]


if TYPE_CHECKING:
    Tokens: TypeAlias = int
    Seed: TypeAlias = int
    Choices: TypeAlias = int
    Bias: TypeAlias = int
    Dimensions: TypeAlias = int
else:
    Tokens = _whole(1, limits.MAX_TOKENS)
    Seed = _whole(limits.SEED_MIN, limits.SEED_MAX)
    Choices = _whole(1, limits.MAX_N)
    Bias = _whole(-100, 100)
    Dimensions = _whole(1, limits.MAX_DIMENSIONS)


def _integral(value: Any) -> Any:
    """`8.0` is an integer to JSON Schema; to the strict validator only once it is made one."""
    return int(value) if type(value) is float and value.is_integer() else value


# Not `_whole`: its union puts a branch tag in an error's location, which then outranks the string branch's
# error when a list of texts has an empty one (`["ok", ""]` must name `input[1]`).
TokenId = Annotated[int, Field(ge=0, le=limits.MAX_TOKEN_ID), BeforeValidator(_integral)]


class _Wire(BaseModel):
    # Unknown extra fields are ignored, as OpenAI-compatible servers do. Strict: JSON types as documented.
    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)


class ImageURL(_Wire):
    url: str
    detail: Name | None = None


class ContentPart(_Wire):
    type: Name = Field(description="`text` or `image_url` (other part types are dropped for text models).")
    text: str | None = None
    image_url: ImageURL | None = None


class FunctionCall(_Wire):
    name: Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_NAME_CHARS)]
    arguments: str | FreeJSON = ""


class ToolCall(_Wire):
    id: Name | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Wire):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | Annotated[list[ContentPart], Field(max_length=limits.MAX_CONTENT_PARTS)] | None = None
    name: Name | None = None
    tool_calls: Annotated[list[ToolCall], Field(max_length=limits.MAX_TOOL_CALLS)] | None = None
    tool_call_id: Name | None = None
    reasoning_content: str | None = None


class FunctionDefinition(_Wire):
    name: ToolName
    description: str | None = None
    parameters: FreeJSON | None = None
    strict: bool | None = None


class Tool(_Wire):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class NamedToolChoiceFunction(_Wire):
    name: ToolName


class NamedToolChoice(_Wire):
    type: Literal["function"] = "function"
    function: NamedToolChoiceFunction


class JSONSchemaFormat(_Wire):
    name: Name | None = None
    description: str | None = None
    schema_: FreeJSON | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Wire):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaFormat | None = None


class StreamOptions(_Wire):
    include_usage: bool = False


class SamplingParams(_Wire):
    """Parameters shared by chat and legacy completions."""

    model: Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_NAME_CHARS)]
    max_tokens: Tokens | None = None
    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: Tokens | None = None
    seed: Seed | None = None
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    repetition_penalty: float | None = Field(None, ge=0)
    stop: StopText | Annotated[list[StopText], Field(max_length=limits.MAX_STOP)] | None = Field(
        None, description=f"Up to {limits.MAX_STOP} sequences; the gateway enforces them."
    )
    n: Choices = 1
    stream: bool = False
    stream_options: StreamOptions | None = None
    logit_bias: (
        Annotated[
            dict[Annotated[str, StringConstraints(max_length=16)], Bias],
            Field(max_length=limits.MAX_LOGIT_BIAS),
        ]
        | None
    ) = Field(None, description="Accepted for compatibility; Workers AI models have no logit bias.")
    metadata: (
        Annotated[
            dict[
                Annotated[str, StringConstraints(max_length=limits.MAX_METADATA_KEY)],
                Annotated[str, StringConstraints(max_length=limits.MAX_METADATA_VALUE)],
            ],
            Field(max_length=limits.MAX_METADATA),
        ]
        | None
    ) = Field(None, description="Accepted for compatibility; not sent to Workers AI.")
    user: Name | None = None


class ChatCompletionRequest(SamplingParams):
    messages: list[ChatMessage] = Field(min_length=1, max_length=limits.MAX_MESSAGES)
    max_completion_tokens: Tokens | None = None
    response_format: ResponseFormat | None = None
    tools: Annotated[list[Tool], Field(max_length=limits.MAX_TOOLS)] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    prompt_cache_key: Name | None = Field(None, description="Keeps a conversation on one account (session affinity).")


Prompt = Annotated[str, StringConstraints(min_length=1)]


class CompletionRequest(SamplingParams):
    prompt: Prompt | Annotated[list[Prompt], Field(min_length=1, max_length=limits.MAX_PROMPTS)] = Field(
        description="Text to complete (a list of strings is joined into one prompt)."
    )
    echo: Literal[False] = Field(False, description="Not supported by Workers AI models: only `false`.")
    suffix: Literal[""] | None = Field(None, description="Not supported by Workers AI models: only empty.")


TokenIds = Annotated[
    list[TokenId],
    Field(min_length=1, max_length=limits.MAX_INPUT_TOKENS),
]


class EmbeddingRequest(_Wire):
    model: Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_NAME_CHARS)]
    input: (
        Prompt
        | Annotated[list[Prompt], Field(min_length=1, max_length=limits.MAX_INPUTS)]
        | TokenIds
        | Annotated[list[TokenIds], Field(min_length=1, max_length=limits.MAX_INPUTS)]
    ) = Field(
        union_mode="left_to_right",  # the first branch that fits: smart mode tried all four, 7x slower on texts
        description="Text, a list of texts, or token ids (a list, or a list of lists) made with tiktoken's "
        "cl100k_base, which the gateway decodes back to text (Workers AI embeds text).",
    )
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Dimensions | None = None
    user: Name | None = None
