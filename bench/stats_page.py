"""Statistics-page benchmark: response times of /statistics over real HTTP.

Uses the machinery of ``bench/lists.py``: builds a temporary SQLite database with
``flask sample-data --cases 100000`` (or uses the one given by --db), serves it
with gunicorn (2 workers) on a free port of 127.0.0.1, requests each URL a fixed
number of times one after another, prints the median and 95th percentile per URL
and the workers' CPU time per request, and stops the server.

    python bench/stats_page.py                      # 100,000 cases, 100 requests per URL
    python bench/stats_page.py --db /tmp/big.db     # reuse a database (SQLite file or URL)

Target (issue 9): median ≤ 50 ms for /statistics at 100,000 cases.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lists  # noqa: E402  (bench/lists.py: database, server and timing helpers)

TARGET_MEDIAN_MS = 50


def busiest_year(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        year = connection.execute(
            text(
                "SELECT b.year FROM case_record c JOIN batch b ON b.id = c.batch_id "
                "WHERE c.status = 'published' GROUP BY b.year ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar()
    engine.dispose()
    return year


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="existing database: SQLite file or SQLAlchemy URL (default: build one)")
    parser.add_argument("--cases", type=int, default=100_000, help="cases to generate when building (default 100000)")
    parser.add_argument("--requests", type=int, default=100, help="requests per URL (default 100)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per URL first (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="gongshi-bench-stats-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("GONGSHI_")}
    env["GONGSHI_SEARCH_INDEX_DIR"] = str(scratch / "search_index")
    if args.db:
        url = lists.database_url(args.db)
    else:
        url = lists.database_url(str(scratch / "bench.db"))
        lists.build_database(url, args.cases, env)
    _, _, total = lists.busiest_district_and_year(url)
    year = busiest_year(url)
    pages = [
        "/statistics",  # all years: every published record is aggregated
        f"/statistics?year={year}",
        f"/statistics?from_year={year - 2}&to_year={year}",
        f"/api/v1/statistics?year={year}",
        "/",  # the home page's figures come from the same module
    ]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    port = lists.free_port()
    server = lists.start_server(url, port, args.workers, env, scratch / "gunicorn.log")
    try:
        # Cold: the first request of each URL in each worker computes the figures;
        # later ones are served from the per-process cache until the data change.
        cold = {}
        for path in pages:
            cold[path] = []
            for _ in range(args.workers):
                started = time.perf_counter()
                lists.fetch(port, path)
                cold[path].append((time.perf_counter() - started) * 1000)
        results = [lists.measure(port, path, args.requests, args.warmup, server.pid) for path in pages]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    print(
        f"\n{total:,} 件已发布案件（{url}），gunicorn {args.workers} 个工作进程，"
        f"每个 URL 顺序请求 {args.requests} 次（另有 {args.warmup} 次预热）；负载 {os.getloadavg()}\n"
    )
    print("首次请求（各工作进程首次计算，未命中缓存）：")
    for path, times in cold.items():
        print(f"- `{path}`: " + " / ".join(f"{ms:.0f} ms" for ms in times))
    print()
    print(lists.table(results))
    misses = [r.url for r in results if r.median > TARGET_MEDIAN_MS]
    errors = [r.url for r in results if r.statuses != {200}]
    print(f"\n目标：中位数 ≤ {TARGET_MEDIAN_MS} ms。", end="")
    print("全部达标。" if not misses else "未达标：" + "、".join(misses))
    if errors:
        print("非 200 响应：" + "、".join(errors), file=sys.stderr)
    shutil.rmtree(scratch, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
