"""Whisper's languages: ISO-639-1 code <-> the lowercase English name OpenAI's verbose_json reports (the
translation engine's language names come from here too)."""

from __future__ import annotations

_PAIRS = (
    "en english|zh chinese|de german|es spanish|ru russian|ko korean|fr french|ja japanese|pt portuguese|"
    "tr turkish|pl polish|ca catalan|nl dutch|ar arabic|sv swedish|it italian|id indonesian|hi hindi|"
    "fi finnish|vi vietnamese|he hebrew|uk ukrainian|el greek|ms malay|cs czech|ro romanian|da danish|"
    "hu hungarian|ta tamil|no norwegian|th thai|ur urdu|hr croatian|bg bulgarian|lt lithuanian|la latin|"
    "mi maori|ml malayalam|cy welsh|sk slovak|te telugu|fa persian|lv latvian|bn bengali|sr serbian|"
    "az azerbaijani|sl slovenian|kn kannada|et estonian|mk macedonian|br breton|eu basque|is icelandic|"
    "hy armenian|ne nepali|mn mongolian|bs bosnian|kk kazakh|sq albanian|sw swahili|gl galician|"
    "mr marathi|pa punjabi|si sinhala|km khmer|sn shona|yo yoruba|so somali|af afrikaans|oc occitan|"
    "ka georgian|be belarusian|tg tajik|sd sindhi|gu gujarati|am amharic|yi yiddish|lo lao|uz uzbek|"
    "fo faroese|ht haitian creole|ps pashto|tk turkmen|nn nynorsk|mt maltese|sa sanskrit|"
    "lb luxembourgish|my myanmar|bo tibetan|tl tagalog|mg malagasy|as assamese|tt tatar|haw hawaiian|"
    "ln lingala|ha hausa|ba bashkir|jw javanese|su sundanese|yue cantonese"
)
NAMES: dict[str, str] = dict(pair.split(" ", 1) for pair in _PAIRS.split("|"))
CODES: dict[str, str] = {name: code for code, name in NAMES.items()}


def language_name(code_or_name: str | None) -> str:
    """'en' -> 'english'; a name stays a name; unknown codes pass through lowercased."""
    value = (code_or_name or "en").strip().lower()
    return NAMES.get(value.split("-")[0], value)


def language_code(code_or_name: str) -> str | None:
    """'english' or 'en' or 'en-US' -> 'en'; None when it is neither."""
    value = code_or_name.strip().lower()
    if value in CODES:
        return CODES[value]
    base = value.split("-")[0]
    return base if base in NAMES else None
