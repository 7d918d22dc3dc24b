"""Search benchmark: build (or reuse) fictional records, time the index build and
a worker's index opening, then answer distinct queries of every class over HTTP
— on /api/v1/search and on /search (HTML) — with 8 concurrent clients against
gunicorn with 2 workers, first with fresh workers (cold), then again with other
queries (warm); check that both workers answered (X-Served-By); measure each
worker's private memory (USS); publish a 1,000-record batch with the staff
area's publish button (a POST to a worker, as a publisher does) and time from its
commit until every worker finds it — this process never applies the search change
log, the workers follow it themselves; and compare with an SQLite FTS5 trigram table of the same
records, ordered the same way (by date).

    python bench/search.py --cases 100000 --dir /tmp/bench/bench-100k
    python bench/search.py --dir /tmp/bench/bench-100k --reuse               # same data, rebuild the index
    python bench/search.py --dir /tmp/bench/bench-1m --reuse --skip-build    # same data and index

Every query is distinct within a run and the cold and warm runs use different
queries, so no answer comes from a cache of an earlier identical query. The
machine's load average is printed with every figure. Prints Markdown for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import datetime as dt
import http.client
import io
import json
import os
import random
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLASSES = [
    ("frag2", "2-character fragment"),
    ("frag34", "3–4-character fragment across word boundaries"),
    ("full", "full name"),
    ("person", "person name"),
    ("code", "credit code"),
    ("partial", "partial code (6–10 characters)"),
    ("docno", "decision number"),
    ("facts", "facts words"),
    ("multi", "multi-word"),
    ("operators", 'operators (OR, -, "…", 名称:)'),
    ("typo", "typo (a character changed)"),
    ("zero", "zero-hit"),
]
BRACKETS = [("〔", "〕"), ("[", "]"), ("(", ")"), ("【", "】"), ("（", "）")]
CLIENTS = 8
RUNS = ("cold-api", "cold-html", "warm-api", "warm-html")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def env_for(directory: Path, *, web: bool = False) -> dict[str, str]:
    """The settings of a process of the benchmark's site: a web worker follows
    the search change log as the site's default does; command-line processes
    and this one never apply it."""
    env = dict(os.environ)
    env.pop("GONGSHI_SEARCH_FOLLOW", None)
    if not web:
        env["GONGSHI_SEARCH_FOLLOW"] = "0"
    env.update(
        GONGSHI_DATABASE_URL=f"sqlite:///{directory / 'site.db'}",
        GONGSHI_SEARCH_INDEX_DIR=str(directory / "index"),
        GONGSHI_SAMPLE_DATA="0",
        GONGSHI_SECRET_KEY="bench",
        GONGSHI_SERVED_BY_HEADER="1",
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


# --- the records and the queries ------------------------------------------------------


def public_rows():
    """(kind, id, name, people, text, docno, code, day) of every public record."""
    from sqlalchemy import select

    from domain import clock
    from domain.visibility import case_is_public_clause, listing_is_public_clause
    from extensions import db
    from models import Case, Listing, ListingPerson

    rows = []
    columns = (Case.id, Case.enterprise_name, Case.legal_representative, Case.facts, Case.handling)
    for r in db.session.execute(
        select(*columns, Case.document_no, Case.credit_code, Case.decided_on).where(case_is_public_clause())
    ):
        text = " ".join(t for t in (r.facts, r.handling) if t)
        rows.append(
            (
                "case",
                r.id,
                r.enterprise_name,
                r.legal_representative or "",
                text,
                r.document_no or "",
                r.credit_code or "",
                r.decided_on.toordinal(),
            )
        )
    persons: dict[int, list[str]] = defaultdict(list)
    for listing_id, name in db.session.execute(select(ListingPerson.listing_id, ListingPerson.name)):
        persons[listing_id].append(name)
    for r in db.session.execute(
        select(
            Listing.id,
            Listing.enterprise_name,
            Listing.legal_representative,
            Listing.reason,
            Listing.basis,
            Listing.document_no,
            Listing.credit_code,
            Listing.listed_on,
        ).where(listing_is_public_clause(clock.today()))
    ):
        people = " ".join(dict.fromkeys([r.legal_representative or "", *persons[r.id]]))
        text = " ".join(t for t in (r.reason, r.basis) if t)
        rows.append(
            (
                "listing",
                r.id,
                r.enterprise_name,
                people,
                text,
                r.document_no or "",
                r.credit_code or "",
                r.listed_on.toordinal(),
            )
        )
    db.session.rollback()
    return rows


def make_queries(rows, per_set: int, seed: int) -> dict[str, dict[str, list[str]]]:
    """Per run (cold/warm × API/HTML) and class, ``per_set`` distinct queries,
    none repeated anywhere in the benchmark."""
    from search_index.analysis import core_name

    rng = random.Random(seed)
    used: set[str] = set()
    names = [re.sub(r"^兰州(市)?(示例)?", "", core_name(r[2])) or core_name(r[2]) for r in rows]
    zero_alphabet = "鑫淼犇骉蟲麤龘靐齉爩鱻羴掱焱垚赑毳"

    def window(text: str, low: int, high: int) -> str:
        length = rng.randint(low, high)
        if len(text) < length:
            return ""
        start = rng.randrange(len(text) - length + 1)
        return text[start : start + length]

    def facts_word(row) -> str:
        return re.sub(r"[，。、；：《》“”\s0-9.]", "", window(row[4], 2, 4)) if row[4] else ""

    def one(key: str) -> str:
        i = rng.randrange(len(rows))
        row, name = rows[i], names[i]
        if key == "frag2":
            return window(name, 2, 2)
        if key == "frag34":
            return window(name, 3, 4)
        if key == "full":
            return row[2]
        if key == "person":
            return rng.choice(row[3].split()) if row[3].strip() else ""
        if key == "code":
            return (row[6].lower() if rng.random() < 0.5 else row[6]) if row[6] else ""
        if key == "partial":
            return window(row[6], 6, 10) if row[6] else ""
        if key == "docno":
            opening, closing = rng.choice(BRACKETS)
            return re.sub(r"〔(\d{4})〕", rf"{opening}\1{closing}", row[5]) if row[5] else ""
        if key == "facts":
            word = facts_word(row)
            return word if len(word) >= 2 else ""
        if key == "multi":
            word = facts_word(row)
            return f"{window(name, 2, 3)} {word}" if len(word) >= 2 else ""
        if key == "operators":
            other = names[rng.randrange(len(rows))]
            form = rng.randrange(5)
            if form == 0:
                return f"{window(name, 2, 3)} OR {window(other, 2, 3)}"
            if form == 1:
                return f"{window(name, 2, 3)} -{window(other, 2, 2)}"
            if form == 2:
                word = facts_word(row)
                return f'"{word}"' if len(word) >= 2 else ""
            if form == 3:
                return f"名称:{window(name, 2, 4)}"
            return f"人员:{rng.choice(row[3].split())}" if row[3].strip() else ""
        if key == "typo":
            text = window(name, 3, 4)
            if not text:
                return ""
            at = rng.randrange(len(text))
            replacement = rng.choice(names[rng.randrange(len(rows))] or "甲")
            return text[:at] + replacement + text[at + 1 :]
        if key == "zero":
            return "".join(rng.choice(zero_alphabet) for _ in range(rng.randint(2, 4)))
        raise KeyError(key)

    out: dict[str, dict[str, list[str]]] = {run: {key: [] for key, _ in CLASSES} for run in RUNS}
    for key, _ in CLASSES:
        for run in RUNS:
            attempts = 0
            while len(out[run][key]) < per_set and attempts < per_set * 200:
                attempts += 1
                q = one(key)
                if q and q.strip() and q not in used:
                    used.add(q)
                    out[run][key].append(q)
    return out


# --- the server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers on a free port."""

    def __init__(self, directory: Path, *, search: bool = True):
        self.port = free_port()
        env = env_for(directory, web=search)  # without search: no follower opening the index
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}")
            try:
                if self.get("/about")[0] == 200 and len(self.workers()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def get(self, path: str) -> tuple[int, bytes, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read(), response.getheader("X-Served-By") or ""
        finally:
            connection.close()

    def workers(self):
        import psutil

        return psutil.Process(self.process.pid).children()

    def cpu_s(self) -> float:
        """CPU time (user + system) of the workers so far."""
        return sum(sum(w.cpu_times()[:2]) for w in self.workers())

    def uss_mb(self) -> dict[int, float]:
        return {w.pid: w.memory_full_info().uss / 1e6 for w in self.workers()}

    def anonymous_mb(self) -> dict[int, float]:
        """Each worker's anonymous memory (heap, not file pages): the part of
        its memory that is not pages of files (such as the match files)."""
        out = {}
        for w in self.workers():
            with open(f"/proc/{w.pid}/smaps_rollup", encoding="ascii") as rollup:
                for line in rollup:
                    if line.startswith("Anonymous:"):
                        out[w.pid] = int(line.split()[1]) / 1e3
        return out

    def serve_pages(self, path: str = "/about", rounds: int = 5) -> None:
        """Let every worker serve ``path`` (concurrent requests, until each
        worker's CPU time shows it served some): the app's own memory."""
        for _ in range(rounds):
            before = {w.pid: sum(w.cpu_times()[:2]) for w in self.workers()}
            with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(lambda _: self.get(path), range(10 * CLIENTS)))
            after = {w.pid: sum(w.cpu_times()[:2]) for w in self.workers()}
            if all(after[pid] - before.get(pid, after[pid]) >= 0.05 for pid in after):
                return
        raise RuntimeError(f"not every worker served {path}")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)


def path_for(endpoint: str, q: str) -> str:
    return f"{endpoint}?" + urllib.parse.urlencode({"q": q, "per_page": 20})


def run_queries(server: Server, queries: dict[str, list[str]], endpoint: str) -> tuple[dict, Counter, list]:
    """All queries of a run, shuffled across classes, by CLIENTS concurrent clients."""
    jobs = [(key, q) for key, items in queries.items() for q in items]
    random.Random(len(jobs)).shuffle(jobs)
    timings: dict[str, list[float]] = defaultdict(list)
    served: Counter = Counter()
    failures = []
    lock = threading.Lock()

    def one(job):
        key, q = job
        started = time.perf_counter()
        status, _, pid = server.get(path_for(endpoint, q))
        elapsed = time.perf_counter() - started
        with lock:
            timings[key].append(elapsed)
            served[pid] += 1
            if status not in (200, 400):
                failures.append((status, q))

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, jobs))
    return timings, served, failures


def open_times(directory: Path, times: int = 3) -> list[float]:
    """Seconds for a fresh process to open the index (map every segment's file)."""
    code = (
        "import time\nfrom app import create_app\napp = create_app()\n"
        "with app.app_context():\n"
        "    from search_index import searcher\n"
        "    started = time.perf_counter(); snap = searcher.snapshot(); print(time.perf_counter() - started, snap.size)\n"
    )
    out = []
    for _ in range(times):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env_for(directory),
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        out.append(float(result.stdout.split()[0]))
    return out


BENCH_PASSWORD = "Bench-Publisher-2026!"


def staff_user(username: str, role: str):
    """A staff account for the benchmark (created once; its password reset each run)."""
    from sqlalchemy import select

    from domain.accounts import create_user, hash_password
    from extensions import db
    from models import User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = create_user(username, role, BENCH_PASSWORD)
    user.password_hash = hash_password(BENCH_PASSWORD)
    user.failed_login_count, user.locked_until, user.active = 0, None, True
    db.session.commit()
    return user


def prepare_batch(app, size: int = 1000) -> tuple[int, str, str]:
    """Upload a batch of new cases as an editor and submit it for review (the
    staff steps before publishing); return the batch id, the batch's last name
    and the publisher's username."""
    from stdnum.cn import uscc

    from domain.importing import CASE_COLUMNS, ImportSettings, check_file, store_batch
    from domain.publishing import submit_batch
    from extensions import db

    editor = staff_user("bench-editor", "editor")
    staff_user("bench-publisher", "publisher")
    stamp = int(time.time()) % 100000
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CASE_COLUMNS)
    for n in range(size):
        body = f"91620100MB{stamp % 100:02d}{n:05d}"
        row = {
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
        writer.writerow([row[c] for c in CASE_COLUMNS])
    report = check_file(out.getvalue().encode(), "bench.csv", "cases", ImportSettings.from_config(app.config))
    assert not report.errors, report.errors[:3]
    batch = store_batch(
        "cases", report.records, title=f"2026年基准批{stamp}", authority="基准", created_by_id=editor.id
    )
    submit_batch(batch, editor)
    db.session.commit()
    return batch.id, f"兰州基准{stamp}批{size - 1}号科技有限公司", "bench-publisher"


class StaffClient:
    """A publisher in a browser, as far as the server can tell: a session
    cookie, the login form and the CSRF token of the page the button is on."""

    def __init__(self, server: Server):
        self.server, self.cookies = server, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def token(self, path: str) -> str:
        status, page = self.request("GET", path)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or not found:
            raise RuntimeError(f"no form on {path} (status {status})")
        return found.group(1)

    def login(self, username: str) -> None:
        form = {"csrf_token": self.token("/admin/login"), "username": username, "password": BENCH_PASSWORD}
        status, _ = self.request("POST", "/admin/login", form)
        if status != 303:
            raise RuntimeError(f"login as {username} failed (status {status})")


def publish_over_http(server: Server, app, size: int = 1000) -> dict:
    """Publish a prepared batch with the staff area's publish button (a POST to
    one of the workers, the real publishing path); nothing else is run.

    ``committed`` is the batch's ``published_at``, set in the publishing
    transaction just before its commit, so the freshness measured from it is
    an upper bound."""
    from extensions import db
    from models import Batch

    with app.app_context():
        batch_id, name, publisher = prepare_batch(app, size)
    client = StaffClient(server)
    client.login(publisher)
    token = client.token(f"/admin/batches/{batch_id}")
    started = time.time()
    status, _ = client.request("POST", f"/admin/batches/{batch_id}/publish", {"csrf_token": token})
    answered = time.time()
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        if status != 303 or batch.status != "published":
            raise RuntimeError(f"publishing failed: status {status}, batch {batch.status}")
        committed = batch.published_at.replace(tzinfo=dt.UTC).timestamp()
        db.session.rollback()
    return {"name": name, "committed": committed, "status": status, "answer_s": answered - started}


def until_found(server: Server, name: str, committed: float) -> tuple[float, dict[str, float]]:
    """Seconds from the commit (Unix time) until every worker finds ``name``,
    and when each worker first found it."""
    found: dict[str, float] = {}
    pids = {str(w.pid) for w in server.workers()}
    while time.time() - committed < 120:
        status, body, pid = server.get(path_for("/api/v1/search", name))
        if status == 200 and json.loads(body)["total"] >= 1 and pid not in found:
            found[pid] = time.time() - committed
            if set(found) >= pids:
                return max(found.values()), found
        time.sleep(0.02)
    raise RuntimeError(f"the new batch never became searchable on every worker (found on {found})")


# --- SQLite FTS5 trigram --------------------------------------------------------------


def build_fts(path: Path, rows) -> float:
    if path.exists():
        path.unlink()
    started = time.monotonic()
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE VIRTUAL TABLE doc USING fts5(name, people, text, docno, code, kind UNINDEXED, rid UNINDEXED, "
        "day UNINDEXED, tokenize='trigram')"
    )
    connection.executemany(
        "INSERT INTO doc(name, people, text, docno, code, kind, rid, day) VALUES (?,?,?,?,?,?,?,?)",
        [(r[2], r[3], r[4], r[5], r[6], r[0], r[1], r[7]) for r in rows],
    )
    connection.commit()
    connection.close()
    return time.monotonic() - started


def fts_query(q: str) -> str | None:
    """Our query language in FTS5 syntax, where trigrams can answer it at all."""
    clauses = []
    for part in q.split():
        if part == "OR":
            clauses.append("OR")
            continue
        negated = part.startswith("-")
        part = part.lstrip("-").strip('"')
        column = ""
        if part.startswith(("名称:", "人员:")):
            column = {"名称": "name", "人员": "people"}[part[:2]] + " : "
            part = part[3:]
        if len(part) < 3:
            return None  # a trigram index cannot match fewer than 3 characters
        clauses.append(("NOT " if negated else "") + column + '"' + part.replace('"', '""') + '"')
    text = " ".join(clauses)
    return text.replace(" NOT ", " NOT ") if clauses else None


def run_fts(path: Path, queries: dict[str, list[str]]) -> dict[str, list[float]]:
    connection = sqlite3.connect(path)
    timings: dict[str, list[float]] = defaultdict(list)
    for key, items in queries.items():
        for q in items:
            expression = fts_query(q)
            if expression is None:
                continue
            started = time.perf_counter()
            try:
                connection.execute("SELECT count(*) FROM doc WHERE doc MATCH ?", [expression]).fetchone()
                connection.execute(
                    "SELECT kind, rid FROM doc WHERE doc MATCH ? ORDER BY day DESC, rid DESC LIMIT 20", [expression]
                ).fetchall()
            except sqlite3.OperationalError:
                continue
            timings[key].append(time.perf_counter() - started)
    return timings


# --- main -----------------------------------------------------------------------------


def cell(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{percentile(values, 0.5) * 1000:.1f} / {percentile(values, 0.95) * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10000, help="cases to generate (one listing per 20 comes along)")
    parser.add_argument("--queries", type=int, default=40, help="distinct queries per class and run")
    parser.add_argument("--dir", type=Path, default=None, help="working directory (default /tmp/gongshi-bench-N)")
    parser.add_argument("--reuse", action="store_true", help="reuse the data already generated in --dir")
    parser.add_argument("--skip-build", action="store_true", help="with --reuse: keep the index already built")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    directory = args.dir or Path(f"/tmp/gongshi-bench-{args.cases}")
    report: dict[str, object] = {}
    lines: list[str] = []

    if not args.reuse:
        directory.mkdir(parents=True, exist_ok=True)
        log(f"generating {args.cases} cases …")
        report["generate_s"] = flask(directory, "sample-data", "--cases", str(args.cases), "--seed", str(args.seed))
        report["generate_load"] = load()
    if not args.skip_build:
        log("full index build (flask search reindex) …")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_before = load()
        report["build_s"] = flask(directory, "search", "reindex")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report["build_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        report["build_peak_mb"] = after.ru_maxrss / 1024
        report["build_load"] = f"{load_before} → {load()}"

    # This process only reads and prepares: it never applies the change log
    # (the web workers follow it themselves).
    os.environ.update(env_for(directory))
    from app import create_app

    app = create_app()
    with app.app_context():
        from search_index.indexer import current_dir

        index_dir = Path(current_dir())
        report["index_mb"] = sum(f.stat().st_size for f in index_dir.iterdir() if f.is_file()) / 1e6
        report["match_mb"] = sum(f.stat().st_size for f in index_dir.glob("*.match")) / 1e6
        rows = public_rows()
        queries = make_queries(rows, args.queries, args.seed)
    log("CPU time per query in process …")
    with app.app_context():
        from search_index import QueryError, search

        in_process: dict[str, list[float]] = defaultdict(list)
        for key, items in queries["warm-api"].items():
            for q in items:
                started = time.process_time()
                with contextlib.suppress(QueryError):
                    search(q, per_page=20, districts=app.config["DISTRICTS"])
                in_process[key].append(time.process_time() - started)
    log("opening the index in fresh processes …")
    report["open_s"] = open_times(directory)
    report["open_load"] = load()

    log("SQLite FTS5 trigram …")
    fts_path = directory / "fts5.db"
    report["fts_build_s"] = build_fts(fts_path, rows)
    fts = run_fts(fts_path, queries["warm-api"])

    results: dict[str, dict] = {}

    def measure(server: Server, run: str) -> None:
        endpoint = "/api/v1/search" if run.endswith("api") else "/search"
        count = sum(len(v) for v in queries[run].values())
        log(f"{run}: {count} queries, {CLIENTS} clients …")
        load_before = load()
        cpu_before = server.cpu_s()
        timings, served, failures = run_queries(server, queries[run], endpoint)
        cpu_ms = (server.cpu_s() - cpu_before) * 1000 / max(count, 1)
        results[run] = {
            "timings": timings,
            "served": served,
            "failures": failures,
            "load": f"{load_before} → {load()}",
            "cpu_ms": cpu_ms,
        }

    # The app without search: workers that never open the index (no follower)
    # and serve a page without search.
    server = Server(directory, search=False)
    try:
        server.serve_pages()
        report["uss_base"] = sorted(server.uss_mb().values())
        report["anon_base"] = sorted(server.anonymous_mb().values())
    finally:
        server.stop()
    # Fresh workers for each cold run: their first queries open the index.
    server = Server(directory)
    try:
        server.serve_pages()
        report["uss_start"] = server.uss_mb()
        measure(server, "cold-api")
        measure(server, "warm-api")
        report["uss_after"] = server.uss_mb()
        report["anon_after"] = server.anonymous_mb()
        log("publishing a batch of 1,000 records with the staff area's publish button …")
        report["batch_load_before"] = load()
        published = publish_over_http(server, app)
        report["batch_answer_s"] = published["answer_s"]
        report["batch_visible_s"], report["batch_per_worker"] = until_found(
            server, published["name"], published["committed"]
        )
        report["batch_load"] = load()
        report["uss_after_batch"] = server.uss_mb()
        report["anon_after_batch"] = server.anonymous_mb()
    finally:
        server.stop()
    server = Server(directory)
    try:
        measure(server, "cold-html")
        measure(server, "warm-html")
    finally:
        server.stop()

    public = len(rows)
    lines.append(f"#### {public:,} public records ({directory})\n")
    if "generate_s" in report:
        lines.append(
            f"- sample data: `flask sample-data --cases {args.cases}` in {report['generate_s']:.0f} s (load {report['generate_load']})"
        )
    if "build_s" in report:
        lines.append(
            f"- full build (`flask search reindex`): {report['build_s']:.1f} s = **{public / report['build_s']:,.0f} records/s** "
            f"({public / max(report['build_cpu_s'], 1e-9):,.0f} per CPU-second), peak memory {report['build_peak_mb']:.0f} MB, "
            f"load {report['build_load']}"
        )
    lines.append(f"- index {report['index_mb']:.0f} MB on disk, of which match files {report['match_mb']:.0f} MB")
    opens = report["open_s"]
    lines.append(
        f"- a fresh process opens the index in {min(opens) * 1000:.0f}–{max(opens) * 1000:.0f} ms (3 tries; load {report['open_load']})"
    )
    base, start = report["uss_base"], report["uss_start"]
    after, batch = report["uss_after"], report["uss_after_batch"]
    app_only = max(base)
    lines.append(
        f"- worker private memory (USS): the app without search (workers with no follower, after `/about` only) "
        f"{' / '.join(f'{m:.0f}' for m in base)} MB; with search, beyond the larger of these: "
        + "; ".join(
            f"pid {pid}: +{start.get(pid, 0) - app_only:.0f} MB after `/about` (its follower has opened the index) → "
            f"+{after.get(pid, 0) - app_only:.0f} MB after the queries → +{batch.get(pid, 0) - app_only:.0f} MB "
            f"after the new batch ({batch.get(pid, 0):.0f} MB)"
            for pid in sorted(after)
        )
    )
    anon_base, anon_after, anon_batch = report["anon_base"], report["anon_after"], report["anon_after_batch"]
    lines.append(
        f"- anonymous memory (heap; no file pages): {' / '.join(f'{m:.0f}' for m in anon_base)} MB without "
        "search; "
        + "; ".join(
            f"pid {pid}: +{anon_after.get(pid, 0) - max(anon_base):.0f} MB after the queries → "
            f"+{anon_batch.get(pid, 0) - max(anon_base):.0f} MB after the new batch"
            for pid in sorted(anon_after)
        )
    )
    per_worker = ", ".join(f"pid {pid} {seconds:.2f} s" for pid, seconds in sorted(report["batch_per_worker"].items()))
    lines.append(
        f"- a batch of 1,000 records published with the staff area's button (the publisher had the answer in "
        f"{report['batch_answer_s']:.2f} s): found by every worker **{report['batch_visible_s']:.2f} s** after the "
        f"commit ({per_worker}; load {report['batch_load_before']} → {report['batch_load']})"
    )
    lines.append(f"- SQLite FTS5 trigram table of the same records built in {report['fts_build_s']:.1f} s")
    for run in RUNS:
        served = results[run]["served"]
        failures = results[run]["failures"]
        lines.append(
            f"- {run}: answers per worker {dict(served)}"
            + ("" if len(served) >= 2 and all(served.values()) else " (**NOT every worker answered**)")
            + f"; workers' CPU {results[run]['cpu_ms']:.1f} ms per request; "
            f"load {results[run]['load']}" + (f"; FAILURES {failures[:5]}" if failures else "")
        )
    lines.append("")
    lines.append(
        "| query class | n per run | cold API p50 / p95 ms | cold HTML | warm API | warm HTML "
        "| CPU in process | FTS5 by date (in process) |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key, label in CLASSES:
        cells = [cell(results[run]["timings"].get(key, [])) for run in RUNS]
        n = len(queries["warm-api"][key])
        lines.append(
            f"| {label} | {n} | "
            + " | ".join(cells)
            + f" | {cell(in_process.get(key, []))} | {cell(fts.get(key, []))} |"
        )
    lines.append(
        f"\n(machine: {os.cpu_count()} cores, shared; python {sys.version.split()[0]}; {CLIENTS} concurrent clients, "
        "gunicorn 2 sync workers; CPU in process: `search()` CPU time for the warm API queries, without HTTP or "
        "templates, which the load does not inflate; FTS5 with count(*) and the first 20 by date; — : FTS5 "
        "trigrams cannot match fewer than 3 characters)"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
