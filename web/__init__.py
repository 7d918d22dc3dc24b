"""What the blueprints share: the request's edge checks, error pages, templating,
pagination and links (``common``), the public data's filters and URLs, report
helpers, Atom feeds and highlighting. No module here defines a blueprint; each
area of the site is one blueprint under ``blueprints/``."""
