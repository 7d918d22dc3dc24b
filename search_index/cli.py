"""flask search …"""

from __future__ import annotations

import sys
import time

import click
from sqlalchemy import func, select

from extensions import db


@click.group("search")
def search_group() -> None:
    """Search index maintenance."""


def _expected_documents() -> int:
    from models import Case, Listing

    return sum(
        db.session.scalar(select(func.count()).select_from(model).where(model.status == "published")) or 0
        for model in (Case, Listing)
    )


@search_group.command("reindex")
def reindex_command() -> None:
    """Rebuild the index from the database (searches keep working meanwhile)."""
    from search_index import IndexBusy, reindex

    total = _expected_documents()
    started, cpu = time.monotonic(), time.process_time()
    try:
        with click.progressbar(
            length=total, label="重建搜索索引", file=sys.stderr, show_pos=True, show_eta=True
        ) as bar:
            count = reindex(progress=bar.update)
    except IndexBusy as busy:
        click.echo(f"未重建：{busy}", err=True)
        sys.exit(2)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    rate = count / elapsed if elapsed else 0
    click.echo(f"已重建搜索索引：{count} 条记录，用时 {elapsed:.1f} 秒（{rate:.0f} 条/秒；CPU 时间 {cpu:.1f} 秒）。")


@search_group.command("sync")
def sync_command() -> None:
    """Apply the change-log entries this machine's index has not applied yet."""
    from search_index import IndexBusy, IndexDamaged, sync
    from search_index.indexer import pending

    count = pending()
    try:
        with click.progressbar(length=count, label="同步搜索索引", file=sys.stderr, show_pos=True) as bar:
            applied = sync(progress=bar.update)
    except IndexBusy as busy:
        click.echo(f"未同步：{busy}", err=True)
        sys.exit(2)
    except IndexDamaged as damaged:
        click.echo(f"未同步：{damaged}。请运行 flask --app app search reindex 重建。", err=True)
        sys.exit(1)
    click.echo(f"已同步 {applied} 条索引变更。")


@search_group.command("prune")
def prune_command() -> None:
    """Delete change-log entries older than SEARCH_LOG_RETENTION_DAYS."""
    from search_index.changelog import prune, retention_days

    deleted = prune()
    click.echo(f"已清理 {deleted} 条超过 {retention_days():g} 天的索引变更日志。")


@search_group.command("follow")
@click.option("--interval", type=float, default=None, help="秒（默认 GONGSHI_SEARCH_FOLLOW_INTERVAL）")
def follow_command(interval: float | None) -> None:
    """Follow the change log in the foreground (when web processes do not: GONGSHI_SEARCH_FOLLOW=0)."""
    from flask import current_app

    from search_index.follower import run_forever

    click.echo("正在跟随搜索变更日志（Ctrl-C 结束）……", err=True)
    run_forever(current_app._get_current_object(), interval)


@search_group.command("check")
def check_command() -> None:
    """Exit 0 only if the index agrees with the database."""
    from search_index import check

    result = check()
    click.echo(result.summary(), err=not result.ok)
    if not result.ok:
        sys.exit(1)
