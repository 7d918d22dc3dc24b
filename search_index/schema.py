"""The Whoosh schema of a search document (one per public case or listing).

Whoosh keeps the documents, their segments and deletions, one writer at a time
and generations; matching never reads its postings. Everything a query needs
is the stored ``row``, which each segment's match file (``matchfile``) holds in
columns that every process maps read-only.
"""

from __future__ import annotations

from whoosh import fields

# Bump when the schema, the row or the analysis changes: `flask search check`
# then asks for a `search reindex`, and searches wait for it.
SCHEMA_VERSION = 4  # 4: the campaign in the row and the facet combination


def make_schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),  # "case:12", "listing:7"
        kind=fields.ID(stored=True),  # "case" | "listing"
        row=fields.STORED(),  # documents.ROW_FIELDS
        rev=fields.STORED(),  # the record's revision, so `search check` sees a missed correction
    )
