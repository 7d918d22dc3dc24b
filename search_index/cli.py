"""flask search …"""

import click


@click.group("search")
def search_group() -> None:
    """Search index maintenance."""
