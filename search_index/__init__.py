"""Full-text search, derived from the database and always rebuildable.

The seam the rest of the site uses:

- ``sync()`` — bring this machine's index up to date with the search change
  log (``changelog``: entries appended in the same transaction as each change,
  never consumed, so every index follows them by sequence);
- ``follower`` — the thread in every web process that applies the log (and
  ``flask search follow``, the same loop as a process of its own); staff
  requests only commit and wake it;
- ``reindex(progress)`` — rebuild from the database into a fresh directory,
  replay what arrived meanwhile and swap it in atomically;
- ``check()`` — does the index agree with the log and the database?
- ``search(q, filters, page, per_page, sort=…)`` — ids with their rank tiers,
  facet counts, suggestions; only records public today. The query language is
  ``syntax``; highlighting is the view's (``web.highlight``).
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

from search_index.changelog import IndexDamaged  # noqa: E402
from search_index.indexer import CheckResult, IndexBusy, check, reindex, sync  # noqa: E402
from search_index.query import SORTS, Filters, Outcome, search  # noqa: E402
from search_index.syntax import QueryError  # noqa: E402

__all__ = [
    "CheckResult",
    "Filters",
    "IndexBusy",
    "IndexDamaged",
    "Outcome",
    "QueryError",
    "SORTS",
    "check",
    "reindex",
    "search",
    "sync",
]
