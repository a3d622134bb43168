"""Translation (m2m100): "[<target code>] <text>", with language names normalised to ISO-639-1 codes."""

from __future__ import annotations

from app.emulator.envelope import bad_input
from app.emulator.outputs import Call, JsonResult, Output
from app.emulator.validation import expect_object, string_field

LANGUAGES: dict[str, str] = {
    "english": "en",
    "chinese": "zh",
    "french": "fr",
    "spanish": "es",
    "arabic": "ar",
    "russian": "ru",
    "german": "de",
    "japanese": "ja",
    "portuguese": "pt",
    "hindi": "hi",
    "italian": "it",
    "korean": "ko",
    "dutch": "nl",
    "polish": "pl",
    "turkish": "tr",
    "vietnamese": "vi",
    "indonesian": "id",
    "ukrainian": "uk",
    "swedish": "sv",
    "czech": "cs",
    "greek": "el",
    "hebrew": "he",
    "thai": "th",
    "romanian": "ro",
    "hungarian": "hu",
    "danish": "da",
    "finnish": "fi",
    "norwegian": "no",
    "bulgarian": "bg",
    "persian": "fa",
    "bengali": "bn",
    "malay": "ms",
    "catalan": "ca",
    "croatian": "hr",
    "slovak": "sk",
    "slovenian": "sl",
    "serbian": "sr",
    "lithuanian": "lt",
    "latvian": "lv",
    "estonian": "et",
    "tamil": "ta",
    "urdu": "ur",
    "swahili": "sw",
}
CODES = frozenset(LANGUAGES.values())


def language_code(value: str, field: str) -> str:
    """An ISO-639-1 code for a code or a lowercase English name; anything else is a 5006 error."""
    name = value.strip().lower()
    if name in CODES:
        return name
    if name in LANGUAGES:
        return LANGUAGES[name]
    raise bad_input(f"Value of '/{field}' is '{value}', not a supported language")


def run_translation(call: Call) -> Output:
    """`{"text", "source_lang" (default en), "target_lang"}` -> `{"translated_text"}`."""
    body = expect_object(call.json())
    text = string_field(body, "text", required=True, min_length=1) or ""
    language_code(string_field(body, "source_lang", default="en") or "en", "source_lang")
    target = language_code(string_field(body, "target_lang", required=True) or "", "target_lang")
    return JsonResult({"translated_text": f"[{target}] {text}"})
