"""Full-text search, derived from the database and always rebuildable.

The seam the rest of the site uses:

- ``apply_outbox()`` — after a commit, bring the index up to date with the
  records named in the search outbox (written in the same transaction as the
  change);
- ``reindex(progress)`` — rebuild from the database into a fresh directory and
  swap it in atomically;
- ``check()`` — does the index agree with the database?
- ``search(q, filters, page, per_page, sort=…)`` — ids with their rank tiers,
  facet counts, suggestions; only records public today. The query language is
  ``syntax``; highlighting is the view's (``blueprints.highlight``).
"""

import warnings

# Whoosh 2.7.4 has invalid escape sequences that Python 3.12+ (and 3.11 with -W
# error) reports while compiling it. A compile-time warning names the module by
# its file path, so a filter on the dotted name "whoosh" alone does not match
# when no .pyc exists yet (a fresh install, a read-only site-packages).
warnings.filterwarnings("ignore", category=SyntaxWarning, module=r"(whoosh(\..*)?|.*[\\/]whoosh[\\/].*)$")
warnings.filterwarnings(
    "ignore", category=DeprecationWarning, module=r".*[\\/]whoosh[\\/].*$", message=r"invalid escape sequence"
)

from search_index.indexer import CheckResult, IndexBusy, apply_outbox, check, reindex  # noqa: E402
from search_index.query import SORTS, Filters, Outcome, search  # noqa: E402
from search_index.syntax import QueryError  # noqa: E402

__all__ = [
    "CheckResult",
    "Filters",
    "IndexBusy",
    "Outcome",
    "QueryError",
    "SORTS",
    "apply_outbox",
    "check",
    "reindex",
    "search",
]
