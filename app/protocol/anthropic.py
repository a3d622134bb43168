"""What Anthropic clients send to `POST /v1/messages` and `/v1/messages/count_tokens`. Wire names, no logic.

Content blocks are one model with a `type` and the fields of every kind (not a tagged union), so a
refusal names `messages[0].content[1].source` rather than a union branch; which fields each kind needs is
checked where it is converted (`app/convert/anthropic.py`). Unknown fields (`cache_control`, `citations`,
`metadata`, `service_tier`, `context_management`...) are ignored, as with the OpenAI models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.protocol import limits
from app.protocol.openai import FreeJSON, Name, StopText, Tokens

ToolName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,128}$")]  # Anthropic's rule


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)


class ImageSource(_Wire):
    type: Literal["base64", "url"]
    media_type: Name | None = Field(None, description="`image/png`, `image/jpeg`, `image/gif` or `image/webp`.")
    data: str | None = Field(None, description="The image, base64-encoded (`type: base64`).")
    url: str | None = Field(None, description="An https URL of the image (`type: url`).")


class ResultBlock(_Wire):
    """What a `tool_result` holds: text, images (for vision models), or a `tool_reference` (what a tool search
    found: it makes that deferred tool callable from then on)."""

    type: Literal["text", "image", "tool_reference"]
    text: str | None = None
    source: ImageSource | None = None
    tool_name: ToolName | None = Field(None, description="`tool_reference`: the deferred tool it loads.")


class ContentBlock(_Wire):
    type: Literal["text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"] = Field(
        description="`text`, `image` (base64 or URL), `tool_use` (assistant), `tool_result` (user); "
        "`thinking` blocks sent back are accepted and not forwarded."
    )
    text: str | None = None
    source: ImageSource | None = None
    id: Name | None = Field(None, description="`tool_use`: the call's id.")
    name: Name | None = Field(None, description="`tool_use`: the tool called.")
    input: FreeJSON | None = Field(None, description="`tool_use`: the arguments.")
    tool_use_id: Name | None = Field(None, description="`tool_result`: the `tool_use` it answers.")
    content: str | Annotated[list[ResultBlock], Field(max_length=limits.MAX_CONTENT_PARTS)] | None = None
    is_error: bool | None = None
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None


Blocks = Annotated[list[ContentBlock], Field(max_length=limits.MAX_CONTENT_PARTS)]


class Message(_Wire):
    role: Literal["user", "assistant", "system"] = Field(
        description="`system` turns (Claude Code sends them mid-conversation) are folded into the system prompt."
    )
    content: str | Blocks


class SystemBlock(_Wire):
    type: Literal["text"] = "text"
    text: str


class ToolDefinition(_Wire):
    type: Name | None = Field(
        None, description="`custom` (or absent): a client tool. Anthropic's server tools (web search...) are dropped."
    )
    name: ToolName
    description: str | None = None
    input_schema: FreeJSON | None = Field(None, description="Required for a client tool.")
    defer_loading: bool | None = Field(
        None, description="Hidden from the model until a `tool_reference` in a tool result names it (tool search)."
    )


class ToolChoice(_Wire):
    type: Literal["auto", "any", "tool", "none"]
    name: ToolName | None = Field(None, description="`type: tool`: the tool that must be called.")
    disable_parallel_tool_use: bool | None = None


class Thinking(_Wire):
    type: Name = Field(description="`enabled`, `adaptive`...: the thinking is shown; `disabled`: it is not.")
    budget_tokens: Tokens | None = Field(None, description="Maps to a reasoning effort where the model has one.")
    display: Literal["summarized", "omitted"] | None = Field(None, description="`omitted`: the thinking is not shown.")


class OutputConfig(_Wire):
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = Field(
        None, description="The reasoning effort of models that take one (`xhigh` and `max` are `high`)."
    )


class CountTokensRequest(_Wire):
    model: Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_NAME_CHARS)]
    messages: list[Message] = Field(min_length=1, max_length=limits.MAX_MESSAGES)
    system: str | Annotated[list[SystemBlock], Field(max_length=limits.MAX_CONTENT_PARTS)] | None = None
    tools: Annotated[list[ToolDefinition], Field(max_length=limits.MAX_TOOLS)] | None = None
    tool_choice: ToolChoice | None = None
    thinking: Thinking | None = None
    output_config: OutputConfig | None = None


class MessagesRequest(CountTokensRequest):
    max_tokens: Tokens = Field(description="Required, as Anthropic requires it.")
    stop_sequences: Annotated[list[StopText], Field(max_length=limits.MAX_STOP)] | None = None
    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: Tokens | None = None
    stream: bool = False
    metadata: dict[str, Any] | None = Field(None, description="Accepted for compatibility; not sent on.")
