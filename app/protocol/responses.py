"""What OpenAI's Responses API clients send (`POST /v1/responses`). Wire names, no logic.

The items are the ones the official SDKs, the Vercel AI SDK and the Agents SDK send: messages (with or
without `type`), `function_call` and `function_call_output` items, and the `reasoning` items a client
hands back from an earlier answer (dropped on the way upstream, as their text is the model's own).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, TypeAdapter

from app.protocol import limits
from app.protocol.openai import FreeJSON, Name, Tokens, ToolName, _Wire

MAX_INPUT_ITEMS = limits.MAX_MESSAGES


class TextPart(_Wire):
    type: Literal["input_text", "output_text", "text", "summary_text", "reasoning_text"]
    text: Annotated[str, Field(description="The text.")]


class ImagePart(_Wire):
    type: Literal["input_image"]
    image_url: str | None = Field(None, description="An https URL or a data URI (`file_id` is not supported).")
    file_id: Name | None = None
    detail: Name | None = None


class RefusalPart(_Wire):
    type: Literal["refusal"]
    refusal: str = ""


Part = Annotated[TextPart | ImagePart | RefusalPart, Field(discriminator="type")]
Parts = Annotated[list[Part], Field(max_length=limits.MAX_CONTENT_PARTS)]


class MessageItem(_Wire):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | Parts
    id: Name | None = None


class FunctionCallItem(_Wire):
    type: Literal["function_call"]
    call_id: Name
    name: ToolName
    arguments: str = ""
    id: Name | None = None


class FunctionCallOutputItem(_Wire):
    type: Literal["function_call_output"]
    call_id: Name
    output: str | Parts


class ReasoningItem(_Wire):
    type: Literal["reasoning"]
    id: Name | None = None
    summary: Annotated[list[TextPart], Field(max_length=limits.MAX_CONTENT_PARTS)] = []


def _item_type(value: Any) -> str:
    """A message may come without `type` (`{role, content}`), as every SDK's short form sends it. The tags
    are not identifiers, so an error's `param` skips them (`input[0].role`, app/routers/body.py)."""
    kind = value.get("type", "message") if isinstance(value, dict) else getattr(value, "type", "message")
    return f"{kind}-item" if kind in ("function_call", "function_call_output", "reasoning") else "message-item"


Item = Annotated[
    Annotated[MessageItem, Tag("message-item")]
    | Annotated[FunctionCallItem, Tag("function_call-item")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output-item")]
    | Annotated[ReasoningItem, Tag("reasoning-item")],
    Discriminator(_item_type),
]
ITEMS: TypeAdapter[list[Item]] = TypeAdapter(list[Item])  # stored items read back (app/serving/responses.py)


class FunctionTool(_Wire):
    type: Literal["function"] = "function"
    name: ToolName
    description: str | None = None
    parameters: FreeJSON | None = None
    strict: bool | None = None


class NamespaceTool(_Wire):
    """A group of functions (Codex's `multi_agent_v1`): its functions are offered to the model one by one."""

    type: Literal["namespace"]
    name: Name
    description: str | None = None
    tools: Annotated[list[FunctionTool], Field(max_length=limits.MAX_TOOLS)] = []


class HostedTool(_Wire):
    """A tool OpenAI runs itself (`web_search`, `file_search`, `code_interpreter`, `image_generation`, `mcp`...):
    no Workers AI model can run it, so it is not offered upstream, as if the client had not sent it."""

    type: Name


def _tool_type(value: Any) -> str:
    kind = value.get("type", "function") if isinstance(value, dict) else getattr(value, "type", "function")
    return f"{kind}-tool" if kind in ("function", "namespace") else "hosted-tool"  # tags skipped in a `param`


AnyTool = Annotated[
    Annotated[FunctionTool, Tag("function-tool")]
    | Annotated[NamespaceTool, Tag("namespace-tool")]
    | Annotated[HostedTool, Tag("hosted-tool")],
    Discriminator(_tool_type),
]


class NamedFunction(_Wire):
    type: Literal["function"]
    name: ToolName


class TextFormat(_Wire):
    type: Literal["text", "json_object", "json_schema"]
    name: Name | None = None
    description: str | None = None
    schema_: FreeJSON | None = Field(None, alias="schema")
    strict: bool | None = None


class TextOptions(_Wire):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningOptions(_Wire):
    effort: Literal["minimal", "low", "medium", "high"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None


Metadata = Annotated[
    dict[
        Annotated[str, Field(max_length=limits.MAX_METADATA_KEY)],
        Annotated[str, Field(max_length=limits.MAX_METADATA_VALUE)],
    ],
    Field(max_length=limits.MAX_METADATA),
]


class ResponseRequest(_Wire):
    model: Annotated[str, Field(min_length=1, max_length=limits.MAX_NAME_CHARS)]
    input: Annotated[str, Field(min_length=1)] | Annotated[list[Item], Field(min_length=1, max_length=MAX_INPUT_ITEMS)]
    instructions: str | None = None
    max_output_tokens: Tokens | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    tools: Annotated[list[AnyTool], Field(max_length=limits.MAX_TOOLS)] | None = Field(
        None, description="Function tools; a `namespace`'s functions are offered one by one; hosted tools are dropped."
    )
    tool_choice: Literal["none", "auto", "required"] | NamedFunction | None = None
    parallel_tool_calls: bool | None = None
    text: TextOptions | None = None
    reasoning: ReasoningOptions | None = None
    metadata: Metadata | None = None
    store: bool = Field(True, description="Keep the answer for GET and `previous_response_id` (as OpenAI does).")
    previous_response_id: Name | None = None
    stream: bool = False
    background: Literal[False] = Field(False, description="Background responses are not supported: only `false`.")
    user: Name | None = None
    prompt_cache_key: Name | None = Field(None, description="Keeps a conversation on one account (session affinity).")
