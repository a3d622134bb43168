"""What OpenAI clients send to /v1/images/generations and /v1/images/edits. Wire names, no logic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ResponseFormat = Literal["url", "b64_json"]
Quality = Literal["auto", "standard", "hd", "low", "medium", "high"]


class ImageGenerationRequest(BaseModel):
    """OpenAI's image request, plus the Workers AI options a user may want."""

    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(min_length=1, description="What to draw.")
    model: str = Field(
        "dall-e-2", min_length=1, description="A Workers AI text-to-image id, or `dall-e-3`, `dall-e-2`, `gpt-image-1`."
    )
    n: int = Field(1, ge=1, le=10, description="Images to make; each is one Workers AI call, run side by side.")
    size: str | None = Field(None, description="`WIDTHxHEIGHT` (or `auto`), checked against the model's limits.")
    response_format: ResponseFormat | None = Field(
        None, description="`url` (default: a file the gateway hosts) or `b64_json`."
    )
    quality: Quality | None = Field(None, description="Mapped to the model's number of steps.")
    style: str | None = None
    user: str | None = None
    negative_prompt: str | None = Field(None, min_length=1, description="What to keep out (models that take it).")
    seed: int | None = Field(None, ge=0)
    steps: int | None = Field(None, ge=1, description="Diffusion steps; wins over `quality`.")
    guidance: float | None = Field(None, ge=0, description="How closely to follow the prompt.")
