"""Text analysis for Chinese search: width folding, legal-form suffixes,
decision-number keys and pinyin.

Chinese has no spaces between words, so search is by fragment: the match files
index every pair of adjacent characters (``matchfile.pair_keys``), and any
fragment of two or more characters is found through its rarest pair, then
compared byte for byte — 恒达建 crosses the words 恒达|建筑 and is still found,
which word segmentation would miss.

``fold`` maps one character to one character (full-width → ASCII, A–Z → a–z),
so offsets in folded text are offsets in the original: highlighting relies on it.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Full-width ASCII (U+FF01–U+FF5E) and the ideographic space fold to ASCII;
# upper-case ASCII folds to lower case. One character in, one character out.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
for _code in range(0x41, 0x5B):
    _FOLD[_code] = _code + 32
for _code in range(0xFF21, 0xFF3B):
    _FOLD[_code] = _code - 0xFEE0 + 32
_FOLDED = {chr(code): chr(folded) for code, folded in _FOLD.items()}
_FOLDABLE = re.compile("[A-Z\u3000\uff01-\uff5e]")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")


def fold(text: str | None) -> str:
    """Full-width to ASCII and lower case, keeping the length."""
    text = text or ""
    if text.isascii():
        return text.lower()  # the same mapping for ASCII, done in C
    # Only the few foldable characters are replaced: str.translate with a
    # mapping looks up every character of a long text, three times slower.
    return _FOLDABLE.sub(lambda found: _FOLDED[found.group()], text)


def is_cjk(char: str) -> bool:
    return bool(_CJK_CHAR.match(char))


# --- names ---------------------------------------------------------------------------

# Legal-form suffixes, longest first. Their bigrams occur in nearly every name, so
# the name without them is what tells companies apart.
LEGAL_FORMS = sorted(
    {
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "集团有限公司",
        "集团股份有限公司",
        "分公司",
        "公司",
        "普通合伙",
        "有限合伙",
        "合伙企业",
        "个人独资企业",
        "个体工商户",
        "工作室",
        "经营部",
        "门市部",
        "合作社",
        "专业合作社",
        "厂",
        "店",
        "中心",
    },
    key=len,
    reverse=True,
)
_BRANCH = re.compile(r"[（(][^（）()]*[)）]$")


def core_name(name: str | None) -> str:
    """The name without a trailing branch note and legal-form suffix:
    兰州恒达建筑工程有限公司 → 兰州恒达建筑工程."""
    text = (name or "").strip()
    text = _BRANCH.sub("", text).strip()
    for _ in range(2):  # 集团 + 有限公司, or 分公司 after a suffix
        for suffix in LEGAL_FORMS:
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text = text[: -len(suffix)]
                break
    return text


_OPENING = str.maketrans({c: "〔" for c in "[(【{<《〔"} | {c: "〕" for c in "])】}>》〕"})


def docno_key(text: str | None) -> str:
    """A decision number folded for comparison: any bracket style as 〔〕, no
    spaces, so 兰人社失信[2025]3号 and 兰人社失信（2025）3号 are the same and
    〔2025〕4号 never matches 〔2020〕254号."""
    return re.sub(r"\s+", "", fold(text).translate(_OPENING))


# --- pinyin (for “did you mean”) ----------------------------------------------------


@lru_cache(maxsize=20000)
def char_pinyin(char: str) -> str:
    """The first (most common) toneless reading of a character, or "" if none."""
    if not is_cjk(char):
        return ""
    from pypinyin import Style, lazy_pinyin

    reading = lazy_pinyin(char, style=Style.NORMAL, errors="ignore")
    return reading[0] if reading else ""


def warm_up() -> None:
    """Load the pinyin dictionary now (about 0.7 s) rather than in the first
    search that finds nothing and asks for suggestions."""
    char_pinyin("恒")


def pinyin_terms(text: str) -> list[str]:
    """Pairs of consecutive syllables (heng_da, da_jian …) of the CJK runs of a text."""
    out: list[str] = []
    for match in _RUN.finditer(fold(text)):
        run = match.group()
        if run[0] < "\x80":
            continue
        syllables = [char_pinyin(c) for c in run]
        out.extend(f"{a}_{b}" for a, b in zip(syllables, syllables[1:], strict=False) if a and b)
    return out
