"""Text-to-speech between OpenAI and Workers AI: voices, payloads and the formats each model can give. Pure.

melotts speaks one voice per language and gives MP3 only: wav and pcm are decoded from it (miniaudio, no
system binary); encoders for flac, opus and aac would need one, so those are a 400. The aura models have
named speakers and encode mp3, wav (linear16 in a WAV container), pcm (linear16, 24 kHz, no container:
OpenAI's pcm), flac, opus (in Ogg) and aac themselves.
"""

from __future__ import annotations

import io
import wave
from typing import Any

from app.errors import InvalidRequest, UpstreamError
from app.protocol.audio import SpeechRequest

OPENAI_VOICES = tuple("alloy ash ballad coral echo fable onyx nova sage shimmer verse marin cedar".split())
MELOTTS = "@cf/myshell-ai/melotts"
MELOTTS_LANGUAGES = ("en", "es", "fr", "zh", "ja", "ko")

# OpenAI voice -> the speaker of the same character (female/male, accent) each aura model has.
_SPEAKERS: dict[str, dict[str, str]] = {
    "@cf/deepgram/aura-1": dict(
        alloy="asteria", ash="arcas", ballad="orpheus", coral="luna", echo="orion", fable="helios", onyx="zeus",
        nova="stella", sage="athena", shimmer="hera", verse="perseus", marin="luna", cedar="angus",
    ),
    "@cf/deepgram/aura-2-en": dict(
        alloy="asteria", ash="arcas", ballad="orpheus", coral="cora", echo="orion", fable="draco", onyx="zeus",
        nova="luna", sage="athena", shimmer="hera", verse="apollo", marin="thalia", cedar="atlas",
    ),
    "@cf/deepgram/aura-2-es": dict(
        alloy="aquila", ash="alvaro", ballad="nestor", coral="carina", echo="sirio", fable="javier", onyx="nestor",
        nova="selena", sage="diana", shimmer="celeste", verse="alvaro", marin="estrella", cedar="javier",
    ),
}  # fmt: skip
_OWN_SPEAKERS: dict[str, tuple[str, ...]] = {
    "@cf/deepgram/aura-1": tuple(
        "angus asteria arcas orion orpheus athena luna zeus perseus helios hera stella".split()
    ),
    "@cf/deepgram/aura-2-en": tuple(
        "amalthea andromeda apollo arcas aries asteria athena atlas aurora callista cora cordelia delia draco "
        "electra harmonia helena hera hermes hyperion iris janus juno jupiter luna mars minerva neptune odysseus "
        "ophelia orion orpheus pandora phoebe pluto saturn thalia theia vesta zeus".split()
    ),
    "@cf/deepgram/aura-2-es": tuple("sirio nestor carina celeste alvaro diana aquila selena estrella javier".split()),
}

# response_format -> aura's encoding fields.
_AURA_FORMATS: dict[str, dict[str, Any]] = {
    "mp3": {"encoding": "mp3"},
    "wav": {"encoding": "linear16", "container": "wav"},
    "pcm": {"encoding": "linear16", "container": "none", "sample_rate": 24000},
    "flac": {"encoding": "flac"},
    "opus": {"encoding": "opus", "container": "ogg"},
    "aac": {"encoding": "aac"},
}
PCM_RATE = 24000  # OpenAI's pcm: 24 kHz, 16-bit signed little-endian, mono
DECODED = ("wav", "pcm")  # made from MP3 for models that give nothing else
MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def is_aura(model_id: str) -> bool:
    return model_id.startswith("@cf/deepgram/aura")


def formats(model_id: str) -> tuple[str, ...]:
    return tuple(_AURA_FORMATS) if is_aura(model_id) else ("mp3", *DECODED)


def voice_name(request: SpeechRequest) -> str:
    voice = request.voice if isinstance(request.voice, str) else request.voice.id
    return voice.strip().lower()


def _speaker(model_id: str, voice: str) -> str:
    own = _OWN_SPEAKERS.get(model_id, _OWN_SPEAKERS["@cf/deepgram/aura-1"])
    mapped = _SPEAKERS.get(model_id, _SPEAKERS["@cf/deepgram/aura-1"])
    if voice in own:
        return voice
    if voice in mapped:
        return mapped[voice]
    raise InvalidRequest(
        f"Unknown voice `{voice}` for {model_id}: use an OpenAI voice ({', '.join(OPENAI_VOICES)}) "
        f"or one of its speakers ({', '.join(own)}).",
        param="voice",
        code="invalid_value",
    )


def _language(voice: str) -> str:
    if voice in MELOTTS_LANGUAGES:
        return voice
    if voice in OPENAI_VOICES:
        return "en"
    raise InvalidRequest(
        f"Unknown voice `{voice}` for {MELOTTS}: it speaks one voice per language; use an OpenAI voice "
        f"(English) or a language code ({', '.join(MELOTTS_LANGUAGES)}).",
        param="voice",
        code="invalid_value",
    )


def speech_payload(model_id: str, request: SpeechRequest) -> dict[str, Any]:
    """The Workers AI input for `request`; a 400 for a format, voice or speed the model cannot do."""
    if request.response_format not in formats(model_id):
        raise InvalidRequest(
            f"{model_id} cannot produce `{request.response_format}` audio; available: {', '.join(formats(model_id))}.",
            param="response_format",
            code="unsupported_format",
        )
    if request.speed != 1.0:
        raise InvalidRequest(
            f"{model_id} cannot change the speaking speed; send `speed` 1.0 or leave it out.",
            param="speed",
            code="unsupported_parameter",
        )
    voice = voice_name(request)
    if is_aura(model_id):
        return {"text": request.input, "speaker": _speaker(model_id, voice), **_AURA_FORMATS[request.response_format]}
    return {"prompt": request.input, "lang": _language(voice)}


def from_mp3(mp3: bytes, fmt: str) -> bytes:
    """MP3 decoded to OpenAI's pcm (24 kHz s16le mono), or that in a WAV file. CPU work: run it in a thread.
    miniaudio is imported here, in that thread: it pulls in numpy (~15 MB), which a gateway that never
    decodes speech should not carry."""
    import miniaudio

    try:
        decoded = miniaudio.decode(
            mp3, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=PCM_RATE
        )
    except miniaudio.DecodeError:
        raise UpstreamError("The model's MP3 audio could not be decoded.", code="upstream_bad_response") from None
    pcm: bytes = decoded.samples.tobytes()
    if fmt == "pcm":
        return pcm
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(PCM_RATE)
        out.writeframes(pcm)
    return buffer.getvalue()
