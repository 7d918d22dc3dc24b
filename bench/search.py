"""Search benchmark: build N fictional records, index them, and time every query
class in process and over HTTP (gunicorn, 2 workers), side by side with an
SQLite FTS5 trigram table of the same records.

    python bench/search.py --records 100000            # ~10 minutes on 2 cores
    python bench/search.py --records 10000 --queries 40
    python bench/search.py --dir /tmp/bench-100k --reuse  # skip generating the data again

Prints: data generation time, full index build rate (``flask search reindex``,
with progress) and its peak memory, index size, p50/p95 latency per query
class in process / over HTTP / in FTS5, fragment recall of both, the time for a
newly published batch of 1,000 records to be found over HTTP, and each web
worker's resident memory after the query mix.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLASSES = [
    ("frag2", "2-character fragment"),
    ("frag34", "3–4 character fragment across word boundaries"),
    ("full", "full name"),
    ("code", "credit code"),
    ("docno", "decision number"),
    ("filter", "district + type filter"),
    ("frequent", "frequent term"),
    ("deep", "deep page"),
]
FREQUENT = ["有限公司", "建筑", "劳务", "工程", "工资"]
BRACKETS = [("〔", "〕"), ("[", "]"), ("(", ")"), ("【", "】"), ("（", "）")]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def env_for(directory: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GONGSHI_DATABASE_URL=f"sqlite:///{directory / 'site.db'}",
        GONGSHI_SEARCH_INDEX_DIR=str(directory / "index"),
        GONGSHI_SAMPLE_DATA="0",
        GONGSHI_SECRET_KEY="bench",
        PYTHONWARNINGS="ignore",
    )
    return env


def flask(directory: Path, *args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env_for(directory), check=True)
    return time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# --- the query sets -------------------------------------------------------------------


def public_rows(app):
    """(kind, id, name, people, text, district, types, document_no, credit_code) of every public record."""
    from sqlalchemy import select

    from domain.visibility import case_is_public_clause, listing_is_public_clause
    from extensions import db
    from models import Case, Listing, ListingPerson

    rows = []
    for r in db.session.execute(
        select(
            Case.id,
            Case.enterprise_name,
            Case.legal_representative,
            Case.facts,
            Case.handling,
            Case.district,
            Case.violation_types,
            Case.document_no,
            Case.credit_code,
        ).where(case_is_public_clause())
    ):
        rows.append(
            (
                "case",
                r.id,
                r.enterprise_name,
                r.legal_representative or "",
                " ".join(t for t in (r.facts, r.handling, r.document_no) if t),
                r.district,
                r.violation_types,
                r.document_no,
                r.credit_code,
            )
        )
    persons: dict[int, list[str]] = {}
    for listing_id, name in db.session.execute(select(ListingPerson.listing_id, ListingPerson.name)):
        persons.setdefault(listing_id, []).append(name)
    for r in db.session.execute(
        select(
            Listing.id,
            Listing.enterprise_name,
            Listing.legal_representative,
            Listing.reason,
            Listing.basis,
            Listing.district,
            Listing.document_no,
            Listing.credit_code,
        ).where(listing_is_public_clause())
    ):
        people = " ".join([r.legal_representative or "", *persons.get(r.id, [])])
        rows.append(
            (
                "listing",
                r.id,
                r.enterprise_name,
                people,
                " ".join(t for t in (r.reason, r.basis, r.document_no) if t),
                r.district,
                "",
                r.document_no,
                r.credit_code,
            )
        )
    return rows


def make_queries(rows, count: int, seed: int) -> dict[str, list[dict]]:
    from search_index.analysis import core_name

    rng = random.Random(seed)
    sample = rng.sample(rows, min(count, len(rows)))
    queries: dict[str, list[dict]] = {key: [] for key, _ in CLASSES}
    for row in sample:
        core = re.sub(r"^兰州(市)?(示例)?", "", core_name(row[2])) or core_name(row[2])
        start = rng.randrange(max(1, len(core) - 1))
        queries["frag2"].append({"q": core[start : start + 2]})
        length = rng.choice((3, 4))
        start = rng.randrange(max(1, len(core) - length + 1))
        queries["frag34"].append({"q": core[start : start + length]})
        queries["full"].append({"q": row[2]})
        if row[8]:
            queries["code"].append({"q": row[8].lower() if rng.random() < 0.5 else row[8]})
        if row[7]:
            opening, closing = rng.choice(BRACKETS)
            queries["docno"].append({"q": re.sub(r"[〔\[(（【](\d{4})[〕\])）】]", rf"{opening}\1{closing}", row[7])})
    districts = sorted({row[5] for row in rows})
    from domain.vocabulary import VIOLATION_TYPES

    for _ in range(count):
        queries["filter"].append(
            {"q": "", "district": rng.choice(districts), "type": rng.choice(VIOLATION_TYPES[:4]), "kind": "cases"}
        )
        queries["frequent"].append({"q": rng.choice(FREQUENT)})
        queries["deep"].append({"q": rng.choice(FREQUENT[:3]), "page": rng.randrange(50, 200)})
    return queries


# --- in process -----------------------------------------------------------------------


def run_in_process(app, queries) -> dict[str, list[float]]:
    from search_index import Filters, search
    from search_index.query import KIND_PARAMS

    timings: dict[str, list[float]] = {}
    for key, items in queries.items():
        timings[key] = []
        for item in items:
            filters = Filters(
                kind=KIND_PARAMS.get(item.get("kind", "")), district=item.get("district"), vtype=item.get("type")
            )
            started = time.perf_counter()
            search(item["q"], filters, page=item.get("page", 1), per_page=20, districts=app.config["DISTRICTS"])
            timings[key].append(time.perf_counter() - started)
    return timings


def recall(app, rows, queries) -> dict[str, tuple[float, float]]:
    """Share of the records containing each fragment that the search finds, and
    the share FTS5 finds (computed below)."""
    from search_index import search
    from search_index.analysis import fold

    texts = [(kind, rid, fold(" ".join((name, people, text)))) for kind, rid, name, people, text, *_ in rows]
    out = {}
    for key in ("frag2", "frag34"):
        found = expected = 0
        for item in queries[key]:
            needle = fold(item["q"])
            truth = {(kind, rid) for kind, rid, text in texts if needle in text}
            outcome = search(item["q"], per_page=len(truth) + 10)
            got = {(hit.kind, hit.record_id) for hit in outcome.hits}
            found += len(truth & got)
            expected += len(truth)
        out[key] = found / expected if expected else 1.0
    return out


# --- over HTTP ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, directory: Path, port: int):
        self.port = port = port or free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env_for(directory),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}")
            try:
                self.get("/api/v1/search?q=%E5%BB%BA%E7%AD%91")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def get(self, path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def worker_rss_mb(self) -> list[float]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        out = []
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        return out

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def search_path(item: dict) -> str:
    params = {k: v for k, v in item.items() if v not in ("", None)}
    params["per_page"] = 20
    return "/api/v1/search?" + urllib.parse.urlencode(params)


def run_http(server: Server, queries) -> dict[str, list[float]]:
    # Warm both workers (each opens the index after the fork).
    for _ in range(4):
        server.get(search_path({"q": "建筑"}))
    timings: dict[str, list[float]] = {}
    for key, items in queries.items():
        timings[key] = []
        for item in items:
            started = time.perf_counter()
            status, _ = server.get(search_path(item))
            timings[key].append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{status} for {item}")
    return timings


def incremental_batch(app, server: Server, size: int = 1000) -> tuple[float, float]:
    """Publish a batch of ``size`` new cases; return (publish + index seconds,
    seconds from the publishing commit until the last record is found over HTTP)."""
    from stdnum.cn import uscc

    from domain.importing import CASE_COLUMNS, ImportSettings, check_file, store_batch
    from domain.publishing import apply_search_outbox, publish_batch
    from extensions import db

    stamp = int(time.time()) % 100000
    rows = []
    for n in range(size):
        body = f"91620100MB{stamp % 100:02d}{n:05d}"
        rows.append(
            {
                "违法主体名称": f"兰州基准{stamp}批{n}号科技有限公司",
                "统一社会信用代码": body + uscc.calc_check_digit(body),
                "法定代表人": "王某",
                "地址": "兰州市城关区示例路1号",
                "区县": "城关区",
                "行业": "建筑业",
                "违法类型": "拖欠劳动报酬",
                "主要违法事实": f"拖欠{n % 50 + 2}名农民工工资。",
                "处理处罚情况": "责令限期支付。",
                "涉及人数": "3",
                "涉及金额（元）": "1000",
                "罚款金额（元）": "",
                "是否移送公安机关": "否",
                "决定日期": "2026-01-05",
                "文书编号": f"兰基准〔2026〕{stamp}{n:05d}号",
            }
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CASE_COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in CASE_COLUMNS])
    report = check_file(out.getvalue().encode(), "bench.csv", "cases", ImportSettings.from_config(app.config))
    assert not report.errors, report.errors[:3]
    batch = store_batch("cases", report.records, title=f"2026年基准批{stamp}", authority="基准")
    db.session.commit()
    started = time.monotonic()
    publish_batch(batch)
    db.session.commit()
    published = time.monotonic()
    apply_search_outbox()
    indexed = time.monotonic() - started
    last = rows[-1]["违法主体名称"]
    while True:
        status, body = server.get(search_path({"q": last}))
        # Found, and by both workers: ask a few more times (requests alternate between them).
        if (
            status == 200
            and json.loads(body)["total"] >= 1
            and all(json.loads(server.get(search_path({"q": last}))[1])["total"] >= 1 for _ in range(4))
        ):
            break
        if time.monotonic() - published > 120:
            raise RuntimeError("the new batch never became searchable")
        time.sleep(0.05)
    return indexed, time.monotonic() - published


# --- SQLite FTS5 trigram --------------------------------------------------------------


def build_fts(path: Path, rows) -> float:
    if path.exists():
        path.unlink()
    started = time.monotonic()
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE VIRTUAL TABLE doc USING fts5(name, people, text, code, docno, kind UNINDEXED, "
        "district UNINDEXED, types UNINDEXED, rid UNINDEXED, tokenize='trigram')"
    )
    connection.executemany(
        "INSERT INTO doc(name, people, text, code, docno, kind, district, types, rid) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (name, people, text, code or "", docno or "", kind, district, types, rid)
            for kind, rid, name, people, text, district, types, docno, code in rows
        ],
    )
    connection.commit()
    connection.close()
    return time.monotonic() - started


def fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def run_fts(path: Path, queries) -> tuple[dict[str, list[float]], dict[str, object]]:
    connection = sqlite3.connect(path)
    timings: dict[str, list[float]] = {}
    for key, items in queries.items():
        timings[key] = []
        for item in items:
            started = time.perf_counter()
            offset = (item.get("page", 1) - 1) * 20
            if key == "filter":
                where, args = "district = ? AND types LIKE ? AND kind = 'case'", [item["district"], f"%{item['type']}%"]
                connection.execute(f"SELECT count(*) FROM doc WHERE {where}", args).fetchone()
                connection.execute(f"SELECT rid FROM doc WHERE {where} LIMIT 20 OFFSET ?", [*args, offset]).fetchall()
            else:
                phrase = fts_phrase(item["q"])
                connection.execute("SELECT count(*) FROM doc WHERE doc MATCH ?", [phrase]).fetchone()
                connection.execute(
                    "SELECT rid FROM doc WHERE doc MATCH ? ORDER BY rank LIMIT 20 OFFSET ?", [phrase, offset]
                ).fetchall()
            timings[key].append(time.perf_counter() - started)
    return timings, {}


def fts_recall(path: Path, rows, queries) -> dict[str, float]:
    from search_index.analysis import fold

    connection = sqlite3.connect(path)
    texts = [(kind, rid, fold(" ".join((name, people, text)))) for kind, rid, name, people, text, *_ in rows]
    out = {}
    for key in ("frag2", "frag34"):
        found = expected = 0
        for item in queries[key]:
            needle = fold(item["q"])
            truth = {(kind, rid) for kind, rid, text in texts if needle in text}
            got = {
                tuple(r)
                for r in connection.execute(
                    "SELECT kind, CAST(rid AS INTEGER) FROM doc WHERE doc MATCH ?", [fts_phrase(item["q"])]
                )
            }
            found += len(truth & got)
            expected += len(truth)
        out[key] = found / expected if expected else 1.0
    return out


# --- main -----------------------------------------------------------------------------


def ms(values: list[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10000, help="records to generate (90%% cases, 10%% listings)")
    parser.add_argument("--queries", type=int, default=60, help="queries per class")
    parser.add_argument("--dir", type=Path, default=None, help="working directory (default /tmp/gongshi-bench-N)")
    parser.add_argument("--reuse", action="store_true", help="reuse the data already generated in --dir")
    parser.add_argument("--port", type=int, default=0, help="port for gunicorn (default: a free one)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--skip-build", action="store_true", help="with --reuse: keep the index already built")
    args = parser.parse_args()
    directory = args.dir or Path(f"/tmp/gongshi-bench-{args.records}")
    report: dict[str, object] = {"records": args.records}

    if not args.reuse:
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        cases = args.records * 9 // 10
        log(f"generating {cases} cases and {args.records - cases} listings …")
        report["generate_s"] = flask(
            directory,
            "sample-data",
            "--cases",
            str(cases),
            "--listings",
            str(args.records - cases),
            "--seed",
            str(args.seed),
        )
    build_s = None
    if not args.skip_build:
        log("full index build (flask search reindex) …")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        build_s = flask(directory, "search", "reindex")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report["build_load"] = os.getloadavg()[0]
        report["build_s"] = build_s
        report["build_cpu_s"] = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
        report["build_peak_mb"] = max(usage.ru_maxrss, after.ru_maxrss) / 1024
    os.environ.update(env_for(directory))
    from app import create_app

    app = create_app()
    with app.app_context():
        from search_index.indexer import current_dir

        report["index_mb"] = dir_size(Path(current_dir())) / 1e6
        rows = public_rows(app)
        report["public"] = len(rows)
        if build_s:
            report["build_rate"] = len(rows) / build_s
        queries = make_queries(rows, args.queries, args.seed)
        log("queries in process …")
        run_in_process(app, {k: v[:5] for k, v in queries.items()})  # open the index, warm the caches
        in_process = run_in_process(app, queries)
        report["recall"] = recall(app, rows, queries)
        log("SQLite FTS5 trigram …")
        fts_path = directory / "fts5.db"
        report["fts_build_s"] = build_fts(fts_path, rows)
        fts, _ = run_fts(fts_path, queries)
        report["fts_recall"] = fts_recall(fts_path, rows, queries)
        over_http: dict[str, list[float]] = {}
        if not args.no_http:
            log("over HTTP (gunicorn, 2 workers) …")
            server = Server(directory, args.port)
            try:
                over_http = run_http(server, queries)
                report["worker_rss_mb"] = server.worker_rss_mb()
                indexed_s, visible_s = incremental_batch(app, server)
                report["batch_index_s"], report["batch_visible_s"] = indexed_s, visible_s
                report["worker_rss_after_batch_mb"] = server.worker_rss_mb()
            finally:
                server.stop()

    print(f"\n## Search benchmark: {report['public']:,} public records ({args.records:,} generated)\n")
    if "generate_s" in report:
        print(f"- sample data generated in {report['generate_s']:.0f} s")
    if build_s:
        print(
            f"- full index build: {report['build_s']:.1f} s = **{report['build_rate']:.0f} docs/s** "
            f"({report['public'] / report['build_cpu_s']:.0f} docs per CPU-second; the machine's load average "
            f"was {report['build_load']:.1f}), peak memory {report['build_peak_mb']:.0f} MB"
        )
    print(f"- index size {report['index_mb']:.1f} MB")
    print(f"- SQLite FTS5 trigram table built in {report['fts_build_s']:.1f} s")
    if over_http:
        print(
            f"- a newly published batch of 1,000 records: published and indexed in {report['batch_index_s']:.2f} s, "
            f"found over HTTP by both workers {report['batch_visible_s']:.2f} s after the publishing commit"
        )
        print(
            f"- web workers' resident memory after the query mix: "
            f"{', '.join(f'{m:.0f} MB' for m in report['worker_rss_mb'])}; after the new batch: "
            f"{', '.join(f'{m:.0f} MB' for m in report['worker_rss_after_batch_mb'])}"
        )
    print()
    print("| query class | n | in process p50 / p95 ms | HTTP p50 / p95 ms | FTS5 p50 / p95 ms | recall: ours / FTS5 |")
    print("|---|---|---|---|---|---|")
    for key, label in CLASSES:
        if not queries[key]:
            continue
        http_cell = f"{ms(over_http[key], 0.5)} / {ms(over_http[key], 0.95)}" if over_http else "—"
        recall_cell = "—"
        if key in report["recall"]:
            recall_cell = f"{report['recall'][key] * 100:.0f}% / {report['fts_recall'][key] * 100:.0f}%"
        print(
            f"| {label} | {len(queries[key])} | {ms(in_process[key], 0.5)} / {ms(in_process[key], 0.95)} | "
            f"{http_cell} | {ms(fts[key], 0.5)} / {ms(fts[key], 0.95)} | {recall_cell} |"
        )
    print(
        f"\n(machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
        f"statistics over {args.queries} queries per class; FTS5 in process, count + first page)"
    )


if __name__ == "__main__":
    main()
