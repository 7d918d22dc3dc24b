"""Domain rules: no Flask request in sight. Views and CLI commands call these."""
