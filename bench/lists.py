"""List-page benchmark: response times of the public lists over real HTTP.

Builds a temporary SQLite database with ``flask sample-data --cases 100000`` (or
uses the one given by --db), serves it with gunicorn (2 workers) on a free port of
127.0.0.1, requests each URL a fixed number of times one after another, prints the
median and 95th percentile per URL, and stops the server.

    python bench/lists.py                       # 100,000 cases, 200 requests per URL
    python bench/lists.py --db /tmp/big.db      # reuse a database (SQLite file or URL)
    python bench/lists.py --cases 20000 --requests 50 --keep   # keep the database for --db

Targets (docs/benchmarks.md, “List pages and downloads”): median ≤ 50 ms and p95 ≤ 100 ms for the HTML and JSON
list pages at 100,000 cases on SQLite.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MEDIAN_MS = 50
TARGET_P95_MS = 100


@dataclass
class Result:
    url: str
    times_ms: list[float]
    statuses: set[int]
    size: int
    download: bool = False  # a whole filtered export: timed, but not held to the page targets
    cpu_ms: float | None = None  # server CPU per request (all workers), robust to a busy machine

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(value: str) -> str:
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


def build_database(url: str, cases: int, env: dict[str, str]) -> None:
    print(f"生成示例数据：flask --app app sample-data --cases {cases} …", file=sys.stderr)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "sample-data", "--cases", str(cases)],
        cwd=ROOT,
        env={**env, "GONGSHI_DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"  用时 {time.perf_counter() - started:.0f} 秒", file=sys.stderr)


def busiest_district_and_year(url: str) -> tuple[str, int, int]:
    """The district and year with the most published cases: the worst filtered page."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT district, year, count(*) AS n FROM case_record WHERE status = 'published' "
                "GROUP BY district, year ORDER BY n DESC LIMIT 1"
            )
        ).one()
        total = connection.execute(text("SELECT count(*) FROM case_record WHERE status = 'published'")).scalar()
    engine.dispose()
    return row.district, row.year, total


def start_server(url: str, port: int, workers: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    server_env = {**env, "GONGSHI_DATABASE_URL": url, "GONGSHI_SAMPLE_DATA": "0"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=server_env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}")
        status, _ = fetch(port, "/api/v1/cases?per_page=1")
        if status == 200:
            return process
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log}")


def fetch(port: int, path: str) -> tuple[int, int]:
    """(status, body size); status 0 when the response broke off (e.g. a worker
    killed by gunicorn's timeout in the middle of a long download)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        try:
            return response.status, len(response.read())
        except http.client.IncompleteRead as broken:
            return 0, len(broken.partial)
    except (ConnectionError, http.client.HTTPException, TimeoutError):
        return 0, 0
    finally:
        connection.close()


def server_cpu(master: int) -> tuple[frozenset[int], float] | None:
    """gunicorn's worker pids and their user + system CPU seconds so far (Linux /proc)."""
    try:
        with open(f"/proc/{master}/task/{master}/children") as handle:
            workers = frozenset(int(pid) for pid in handle.read().split())
        total = 0
        for pid in workers:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
        return workers, total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def measure(port: int, path: str, requests: int, warmup: int, master: int, download: bool = False) -> Result:
    for _ in range(warmup):
        fetch(port, path)
    times, statuses, size = [], set(), 0
    cpu_before = server_cpu(master)
    for _ in range(requests):
        started = time.perf_counter()
        status, size = fetch(port, path)
        times.append((time.perf_counter() - started) * 1000)
        statuses.add(status)
    cpu_after = server_cpu(master)
    cpu_ms = None
    if cpu_before and cpu_after and cpu_before[0] == cpu_after[0]:  # no worker was replaced meanwhile
        cpu_ms = (cpu_after[1] - cpu_before[1]) * 1000 / requests
    return Result(path, times, statuses, size, download, cpu_ms)


def table(results: list[Result]) -> str:
    lines = [
        "| URL | 请求数 | 中位数 ms | p95 ms | 最大 ms | 服务端 CPU ms/次 | 状态 | 响应大小 |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for result in results:
        statuses = ",".join(str(status) for status in sorted(result.statuses))
        lines.append(
            f"| `{urllib.parse.unquote(result.url)}`{'（下载）' if result.download else ''} | {len(result.times_ms)} | "
            f"{result.median:.1f} | {result.p95:.1f} | {max(result.times_ms):.1f} | "
            f"{'—' if result.cpu_ms is None else f'{result.cpu_ms:.1f}'} | {statuses} | {result.size:,} B |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="existing database: SQLite file or SQLAlchemy URL (default: build one)")
    parser.add_argument("--cases", type=int, default=100_000, help="cases to generate when building (default 100000)")
    parser.add_argument("--requests", type=int, default=200, help="requests per URL (default 200)")
    parser.add_argument("--downloads", type=int, default=10, help="requests of the CSV download (default 10)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per URL first (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database (to reuse with --db)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="gongshi-bench-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("GONGSHI_")}
    env["GONGSHI_SEARCH_INDEX_DIR"] = str(scratch / "search_index")
    if args.db:
        url = database_url(args.db)
    else:
        url = database_url(str(scratch / "bench.db"))
        build_database(url, args.cases, env)
    district, year, total = busiest_district_and_year(url)
    quoted = urllib.parse.quote
    pages = [
        "/cases?page=50",
        f"/cases?district={quoted(district)}&year={year}",
        "/listings",
        "/api/v1/cases?page=50",
    ]
    download = f"/cases.csv?district={quoted(district)}"

    # Stop the server on Ctrl-C or a kill as well.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    port = free_port()
    log = scratch / "gunicorn.log"
    server = start_server(url, port, args.workers, env, log)
    try:
        results = [measure(port, path, args.requests, args.warmup, server.pid) for path in pages]
        results.append(measure(port, download, args.downloads, 1, server.pid, download=True))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    print(
        f"\n{total:,} 件已发布案件（{urllib.parse.unquote(url)}），gunicorn {args.workers} 个工作进程，"
        f"每个 URL 顺序请求 {args.requests} 次（另有 {args.warmup} 次预热）\n"
    )
    print(table(results))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None and load > (os.cpu_count() or 1):
        print(
            f"\n注意：机器繁忙（1分钟平均负载 {load:.1f}，{os.cpu_count()} 个 CPU），响应时间偏高；服务端 CPU 时间不受影响。"
        )
    misses = [r.url for r in results if not r.download and (r.median > TARGET_MEDIAN_MS or r.p95 > TARGET_P95_MS)]
    errors = [r.url for r in results if r.statuses != {200}]
    print(f"\n目标（列表页与接口）：中位数 ≤ {TARGET_MEDIAN_MS} ms，p95 ≤ {TARGET_P95_MS} ms。", end="")
    print("全部达标。" if not misses else "未达标：" + "、".join(urllib.parse.unquote(m) for m in misses))
    if errors:
        print("非 200 响应：" + "、".join(errors), file=sys.stderr)
    if args.keep:
        print(f"临时文件已保留：{scratch}", file=sys.stderr)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
