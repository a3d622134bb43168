"""What OpenAI clients send to /v1/audio/*: the transcription form and the speech request. No logic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TranscriptFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]


class _Wire(BaseModel):
    # Unknown extra fields are ignored, as OpenAI-compatible servers do.
    model_config = ConfigDict(extra="ignore")


class TranscriptionForm(_Wire):
    """The text fields of a transcription or translation upload (the audio is the `file` part)."""

    model: str = Field(description="A Workers AI speech-recognition id, or `whisper-1` / `gpt-4o-transcribe`.")
    language: str | None = Field(None, description="ISO-639-1 code of the spoken language (transcriptions).")
    prompt: str | None = Field(None, description="Text to guide the style or continue a previous segment.")
    response_format: TranscriptFormat = "json"
    temperature: float | None = Field(None, ge=0, le=1)
    timestamp_granularities: list[Literal["word", "segment"]] = Field(
        ["segment"],
        description="With `verbose_json`: `segment` and/or `word` (sent as `timestamp_granularities[]`).",
    )


class VoiceID(_Wire):
    id: str


class SpeechRequest(_Wire):
    model: str = Field(description="`tts-1`, `tts-1-hd`, `gpt-4o-mini-tts`, `@cf/myshell-ai/melotts` or aura.")
    input: str = Field(min_length=1, max_length=4096)
    voice: str | VoiceID = Field(description="An OpenAI voice name, or the model's own speaker (or language).")
    instructions: str | None = Field(None, description="Accepted and ignored: no Workers AI voice takes it.")
    response_format: SpeechFormat = "mp3"
    # OpenAI's range is accepted by the model, then refused unless 1.0 (a 400 naming `speed`): so documented.
    speed: float = Field(
        1.0,
        ge=0.25,
        le=4.0,
        description="Only 1.0: no Workers AI voice changes speed.",
        json_schema_extra={"enum": [1]},
    )
    stream_format: Literal["audio", "sse"] = "audio"
