"""The language codes the translation routes take (DeepL's and ISO 639-1, with regional variants), and the
pattern the API document states for them. Wire facts: app/convert/languages.py reads them to translate."""

from __future__ import annotations

# The seed's languages (ISO 639-1, as m2m100 names them).
ENGINE_CODES = (
    "en zh fr de es it ja ko pt ru nl sv no da fi pl tr ar he id th vi hi ms el cs sk ro hu bg hr sr uk".split()
)
# Codes clients send that name one of those languages (DeepL's NB for Norwegian, old Java codes).
ALIASES: dict[str, str] = {"nb": "no", "nn": "no", "iw": "he", "in": "id"}
# Regional and script variants: (language, OpenCC configuration for the output, or None).
VARIANTS: dict[str, tuple[str, str | None]] = {
    "en-us": ("en", None),
    "en-gb": ("en", None),
    "pt-br": ("pt", None),
    "pt-pt": ("pt", None),
    "zh-hans": ("zh", None),
    "zh-cn": ("zh", None),
    "zh-sg": ("zh", None),
    "zh-hant": ("zh", "s2twp"),
    "zh-tw": ("zh", "s2twp"),
    "zh-hk": ("zh", "s2hk"),
}


def code_pattern(*, source: bool) -> str:
    """The codes `parse_target` (or `parse_source`) takes, as a regular expression for the API document:
    any case, `_` for `-`, surrounding spaces; a source may also be empty or `auto`."""
    codes = sorted({*ENGINE_CODES, *ALIASES, *VARIANTS} | ({"auto"} if source else set()), key=lambda c: (-len(c), c))
    spelled = ("".join(f"[{c.upper()}{c}]" if c.isalpha() else "[-_]" for c in code) for code in codes)
    return r"^\s*(?:" + "|".join(spelled) + (")?" if source else ")") + r"\s*$"
