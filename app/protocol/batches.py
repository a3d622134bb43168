"""What OpenAI clients send to the Batch API (`client.batches.create`). Wire names, no logic."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# The endpoints a batch's lines may call: the ones the gateway serves that OpenAI's Batch API takes.
ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings", "/v1/responses", "/v1/completions")
MetadataKey = Annotated[str, StringConstraints(max_length=64)]
MetadataValue = Annotated[str, StringConstraints(max_length=512)]


class BatchCreateRequest(BaseModel):
    """`POST /v1/batches`."""

    model_config = ConfigDict(extra="ignore", strict=True)

    input_file_id: str = Field(max_length=64, description="A file uploaded with purpose `batch`.")
    endpoint: Literal["/v1/chat/completions", "/v1/embeddings", "/v1/responses", "/v1/completions"]
    completion_window: Literal["24h"] = Field(
        description="Only `24h`, as OpenAI; the gateway's own window is BATCH_EXPIRE_SECONDS (a paced batch "
        "may take several days)."
    )
    metadata: dict[MetadataKey, MetadataValue] | None = Field(None, max_length=16)
