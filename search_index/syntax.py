"""What a typed query means: the small query language of /search and /api/v1/search.

    恒达 建筑            every word must occur (each in any field)
    "拖欠 工资"          a phrase: matched as written, spaces and punctuation included
    恒达 OR 宏远         either one (also ``恒达 或 宏远`` and ``恒达 | 宏远``)
    -物流                records containing it are left out
    名称:恒达            only in that field: 名称 人员 文号 代码 (a full-width ： too)
    5.89万元             a word is matched as written: the dot is part of it
    9162010205           six or more letters/digits are also looked for in credit codes
    91620102…(18 位)     a credit code: exact; a wrong check character is pointed out
    兰人社失信〔2025〕3号  a decision number: any bracket style

Matching is on folded text (full width → ASCII, upper → lower case), character
for character, within one field of a record. A malformed query raises
``QueryError`` with a message for the user (answered 400 by the API).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.validation import credit_code_check_character, normalize_credit_code
from search_index.analysis import docno_key, fold, is_cjk

MAX_QUERY_LENGTH = 100
MAX_WORDS = 10

NAME, PEOPLE, DOCNO, CODE, TEXT = "name", "people", "docno", "code", "text"
# Where a word without a prefix is looked for, best first (the ranking order).
PLAIN_FIELDS = (NAME, PEOPLE, DOCNO, TEXT)
PREFIXES = {
    "名称": NAME,
    "单位": NAME,
    "name": NAME,
    "人员": PEOPLE,
    "人名": PEOPLE,
    "person": PEOPLE,
    "文号": DOCNO,
    "文书号": DOCNO,
    "docno": DOCNO,
    "代码": CODE,
    "信用代码": CODE,
    "code": CODE,
}
FIELD_LABELS = {NAME: "名称", PEOPLE: "人员", DOCNO: "文号", CODE: "代码", TEXT: "事实"}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CODE = re.compile(r"[0-9A-Z]{18}|\d{15}")
_PARTIAL_CODE = re.compile(r"(?=.*\d)[0-9a-z]{6,18}")
_YEAR_IN_BRACKETS = re.compile(r"[〔\[(【{<《]\s*(19|20)\d\d\s*[〕\])】}>》]")
_DOC_NO_TAIL = re.compile(r"(19|20)\d\d\D{0,3}\d+\s*号\s*$")
_PREFIX = re.compile(r"([a-z]+|[\u4e00-\u9fff]{2,4}):")
_OPEN_QUOTES = '"“'
_CLOSE_QUOTES = '"”'
_SEPARATORS = "，、；;。！？!?"
_OR_WORDS = ("OR", "ＯＲ", "或")


class QueryError(ValueError):
    """A query that cannot be searched; the message is shown to the user (400)."""


@dataclass(frozen=True)
class Term:
    """Text that must occur in a record: in one field, or in any of the plain fields."""

    text: str  # folded
    field: str | None = None
    phrase: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        if self.field:
            return (self.field,)
        if _PARTIAL_CODE.fullmatch(self.text):
            return (NAME, PEOPLE, DOCNO, CODE, TEXT)
        return PLAIN_FIELDS

    def text_in(self, fieldname: str) -> str:
        """The text to look for in a field: decision numbers compare bracket-blind,
        codes without spaces or hyphens."""
        if fieldname == DOCNO:
            return docno_key(self.text)
        if fieldname == CODE:
            return re.sub(r"[\s-]", "", self.text)
        return self.text

    @property
    def indexed(self) -> bool:
        """Two or more characters in every field it is looked for in: found
        through the index. A single character is only checked in the records
        that the other words find."""
        return all(len(self.text_in(f)) >= 2 for f in self.fields)

    @property
    def simple(self) -> bool:
        return self.field is None and not self.phrase


@dataclass(frozen=True)
class Clause:
    """Alternatives: a record matches if it has any of them."""

    terms: tuple[Term, ...]

    @property
    def indexed(self) -> bool:
        return all(term.indexed for term in self.terms)


@dataclass
class ParsedQuery:
    raw: str
    mode: str  # "empty" | "words" | "code" | "document_no" | "too_short"
    clauses: list[Clause] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    code: str | None = None
    expected_check: str | None = None  # set when an 18-character code has a wrong check character
    fallback: str | None = None  # a decision number with no match is searched again as words

    @property
    def terms(self) -> list[Term]:
        return [term for clause in self.clauses for term in clause.terms]

    @property
    def simple(self) -> bool:
        """Plain words only (no operators, phrases or fields): suggestions and
        partial matches make sense for these."""
        return (
            self.mode == "words"
            and not self.excluded
            and all(len(c.terms) == 1 and c.terms[0].simple for c in self.clauses)
        )


def parse(q: str | None) -> ParsedQuery:
    raw = (q or "").strip()
    if _CONTROL.search(raw):
        raise QueryError("搜索词中有控制字符，请删去后再搜索。")
    if len(raw) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"搜索词太长：最多 {MAX_QUERY_LENGTH} 个字符，请只输入单位名称、人名、代码或文书编号的一部分。"
        )
    if not raw:
        return ParsedQuery(raw, "empty")
    code = normalize_credit_code(raw)
    if not raw.startswith(("-", "－")) and _CODE.fullmatch(code):
        parsed = ParsedQuery(raw, "code", clauses=[Clause((Term(fold(code), CODE),))], code=code)
        if len(code) == 18:
            expected = credit_code_check_character(code)
            if expected is not None and expected != code[17]:
                parsed.expected_check = expected
        return parsed
    folded = fold(raw)
    if (
        any(is_cjk(c) for c in folded)
        and (_YEAR_IN_BRACKETS.search(folded) or _DOC_NO_TAIL.search(folded))
        and not re.search(r'["“”:|]|(^|\s)(OR|或)(\s|$)|(^|\s)-', raw)
    ):
        return ParsedQuery(raw, "document_no", clauses=[Clause((Term(docno_key(folded), DOCNO),))], fallback=raw)
    return parse_words(raw)


def parse_words(raw: str) -> ParsedQuery:
    """Words, phrases, alternatives, exclusions and field prefixes."""
    text = fold(raw.strip())
    clauses: list[Clause] = []
    excluded: list[Term] = []
    pending_or = False
    last = None  # "term" | "excluded" | "or"
    for token in _tokens(raw.strip(), text):
        if token == "OR":
            if last != "term" or pending_or:
                raise QueryError("“OR”（或）要写在两个搜索词之间，例如：恒达 OR 宏远。")
            pending_or, last = True, "or"
            continue
        term, negated = token
        if negated:
            if pending_or:
                raise QueryError("排除的词（前面带“-”）不能用“OR”连接，例如应写成：恒达 -物流。")
            if term not in excluded:
                excluded.append(term)
            last = "excluded"
        elif pending_or:
            if term not in clauses[-1].terms:
                clauses[-1] = Clause((*clauses[-1].terms, term))
            pending_or, last = False, "term"
        else:
            clause = Clause((term,))
            if clause not in clauses:
                clauses.append(clause)
            last = "term"
    if pending_or:
        raise QueryError("“OR”（或）要写在两个搜索词之间，例如：恒达 OR 宏远。")
    if len(clauses) + len(excluded) > MAX_WORDS:
        raise QueryError(f"搜索词太多：最多 {MAX_WORDS} 个，请删去一些再搜索。")
    if not clauses:
        if excluded:
            raise QueryError("只写了要排除的词：请再输入至少一个要查找的词，例如：建筑 -物流。")
        return ParsedQuery(raw, "empty")
    mode = "words" if any(c.indexed for c in clauses) else "too_short"
    return ParsedQuery(raw, mode, clauses=clauses, excluded=excluded)


def _is_separator(text: str, i: int) -> bool:
    char = text[i]
    if char.isspace() or char in _SEPARATORS:
        return True
    if char == ",":  # 1,000 keeps its comma
        return not (0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit())
    return False


def _tokens(raw: str, text: str):
    """Yield "OR" or (Term, negated) from the folded query ``text`` (same length as ``raw``)."""
    i, n = 0, len(text)
    while i < n:
        if _is_separator(text, i):
            i += 1
            continue
        if text[i] == "|":
            yield "OR"
            i += 1
            continue
        negated = False
        if text[i] == "-":
            if i + 1 >= n or _is_separator(text, i + 1) or text[i + 1] == "|":
                raise QueryError("“-”后面要紧跟要排除的词，例如：建筑 -物流。")
            negated = True
            i += 1
        fieldname = None
        prefix = _PREFIX.match(text, i)
        if prefix:
            name = prefix.group(1)
            if name not in PREFIXES:
                raise QueryError(
                    f"不认识的字段“{raw[i : prefix.end(1)]}”：可以用 名称:、人员:、文号:、代码: 限定在哪一项中查找。"
                )
            fieldname = PREFIXES[name]
            label = raw[i : prefix.end()]
            i = prefix.end()
            if i >= n or _is_separator(text, i) or text[i] == "|":
                raise QueryError(f"“{label}”后面要紧跟搜索词，例如：{label}恒达。")
        if text[i] in _OPEN_QUOTES:
            close = next((j for j in range(i + 1, n) if text[j] in _CLOSE_QUOTES), -1)
            if close < 0:
                raise QueryError('引号不成对：短语要用一对引号括起来，例如："拖欠工资"。')
            words = " ".join(text[i + 1 : close].split())
            if not words:
                raise QueryError("引号中间没有要查找的内容。")
            yield Term(words, fieldname, phrase=True), negated
            i = close + 1
            continue
        start = i
        while i < n and not _is_separator(text, i) and text[i] not in _OPEN_QUOTES and text[i] != "|":
            i += 1
        word = text[start:i]
        if not negated and fieldname is None and raw[start:i] in _OR_WORDS:
            yield "OR"
            continue
        yield Term(word, fieldname), negated
