"""The Whoosh schema of a search document (one per public case or listing)."""

from __future__ import annotations

from collections import Counter

from whoosh import fields, formats

from search_index.analysis import terms

# Bump when the schema or the analysis changes: `flask search check` then asks
# for a `search reindex`.
SCHEMA_VERSION = 2


class BigramText(fields.FieldType):
    """Text searched by fragments: the terms of ``analysis.terms`` (CJK bigrams,
    whole letter/digit runs), postings without positions or frequencies (a
    fragment is verified against the text itself, which is exact and cheaper than
    positional phrase matching in pure Python). Queries are never parsed by
    Whoosh, so the field needs no analyzer."""

    def __init__(self, stored: bool = False):
        super().__init__(formats.Existence(), None, scorable=False, stored=stored)

    def index(self, value, **kwargs):
        for term in Counter(terms(value)):
            yield term.encode("utf-8"), 1, 1.0, b""


def make_schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),  # "case:12", "listing:7"
        kind=fields.ID(stored=True, sortable=True),  # "case" | "listing"
        # Fragments of the enterprise name, of the people, of the facts.
        name=BigramText(),
        people=BigramText(),  # 法定代表人 and 责任人员
        text=BigramText(),  # facts, handling, reason, basis
        # The full name and the name without its legal form (the "exact name" rank).
        name_exact=fields.KEYWORD(commas=True),
        name_py=fields.KEYWORD(),  # pinyin syllable pairs of the name, for homophones
        # Facets and filters.
        district=fields.ID(stored=True, sortable=True),
        year=fields.ID(stored=True, sortable=True),
        vtype=fields.KEYWORD(commas=True, stored=True),
        batch=fields.ID(stored=True, sortable=True),
        # Everything the in-memory match table needs, read once per segment.
        row=fields.STORED(),
        rev=fields.STORED(),  # the record's revision, so `search check` sees a missed correction
    )
