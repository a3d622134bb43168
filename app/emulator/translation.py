"""Translation (m2m100): "[<target code>] <text>", with language names normalised to ISO-639-1 codes.

The answer is deterministic and recognisable per target: "[fr] Hello" for French; Chinese answers carry
a Simplified-script word ("[zh] 译文 Hello"), so a client can see whether its Traditional conversion ran.
Source and target are checked against m2m100's 100 languages (codes, or the lowercase English names the
Workers AI examples use); anything else is a 5006, as schema errors are.
"""

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
# m2m100's own language codes (facebook/m2m100_1.2B), beyond the named ones above.
M2M100_CODES = frozenset(
    "af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu ha he hi hr "
    "ht hu hy id ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr ms my ne nl no ns oc or "
    "pa pl ps pt ro ru sd si sk sl so sq sr ss su sv sw ta th tl tn tr uk ur uz vi wo xh yi yo zh zu".split()
)
CODES = frozenset(LANGUAGES.values()) | M2M100_CODES
# What marks a translation into these targets (text the test suite can recognise).
MARKS: dict[str, str] = {"zh": "译文 "}


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
    return JsonResult({"translated_text": f"[{target}] {MARKS.get(target, '')}{text}"})
