"""Full-text search, derived from the database and always rebuildable.

The seam the rest of the site uses:

- ``apply_outbox()`` — after a commit, bring the index up to date with the
  records named in the search outbox (written in the same transaction as the
  change);
- ``reindex(progress)`` — rebuild from the database into a fresh directory and
  swap it in atomically;
- ``check()`` — does the index agree with the database?
- ``search(q, filters, page, per_page)`` — ids in relevance order, facet counts,
  suggestions; only records public today.
"""

from search_index.indexer import CheckResult, IndexBusy, apply_outbox, check, reindex
from search_index.query import Filters, Outcome, QueryError, highlight, search, snippet

__all__ = [
    "CheckResult",
    "Filters",
    "IndexBusy",
    "Outcome",
    "QueryError",
    "apply_outbox",
    "check",
    "highlight",
    "reindex",
    "search",
    "snippet",
]
