"""Full-text search, derived from the database and always rebuildable."""
