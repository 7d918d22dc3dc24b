"""How long applying one published batch to the search index takes, in process.

Works on an existing instance (a copy: it publishes new batches into it), e.g.
one made by ``flask sample-data``. Each round stores a draft batch of N new
cases, publishes it (``publish_batch`` and commit: the change-log entries), then
times, in this process and with no follower running:

- apply: ``indexer.apply_pending`` of the live index directory (what a follower
  does after a commit);
- reopen: ``searcher.snapshot()`` on the new generation;
- search: the first search of the batch's marker on it (all N found);
- merge: ``indexer.merge_segments``, which a follower runs next (usually nothing).

It also prints the index's segments and which existing match files the apply
rewrote or removed (a merge), so segment growth and merges are visible.

    python bench/apply_batch.py --dir /tmp/bench-100k --rounds 3
    python bench/apply_batch.py --dir /tmp/bench-100k --profile /tmp/apply.prof   # cProfile of each apply
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from domain.importing import ImportSettings, check_file, store_batch  # noqa: E402
from domain.publishing import publish_batch  # noqa: E402
from extensions import db  # noqa: E402
from models import Batch, Case  # noqa: E402
from search_index import indexer, search, searcher  # noqa: E402
from tests.builders import case_row, credit_code, to_csv  # noqa: E402
from tests.test_search_apply import match_file_stats  # noqa: E402


def segments(directory: str) -> list[int]:
    ix = indexer.open_index(directory)
    return [segment.doc_count_all() for segment in ix._read_toc().segments]


def store_draft(app, count: int, marker: str, serial_base: int) -> int:
    rows = [
        case_row(
            违法主体名称=f"兰州{marker}{i}号建设有限公司",
            统一社会信用代码=credit_code(serial_base + i),
            文书编号=f"兰{marker}〔2031〕{i}号",
        )
        for i in range(1, count + 1)
    ]
    report = check_file(to_csv("cases", rows), "b.csv", "cases", ImportSettings.from_config(app.config))
    assert not report.errors, [str(error) for error in report.errors[:5]]
    number = (db.session.scalar(select(func.max(Batch.number)).where(Batch.year == 2031)) or 0) + 1
    batch = store_batch(
        "cases", report.records, title=f"2031年第{number}批", authority=app.config["AUTHORITY_NAME"], number=number
    )
    db.session.commit()
    return batch.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="instance directory with site.db and index/")
    parser.add_argument("--count", type=int, default=1000, help="cases per batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of each apply to this path (suffixed by the round)")
    args = parser.parse_args()
    work = Path(args.dir)
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SAMPLE_DATA": False,
            "SEARCH_FOLLOW": 0,
            "DATABASE_URL": f"sqlite:///{work / 'site.db'}",
            "SEARCH_INDEX_DIR": str(work / "index"),
        }
    )
    with app.app_context():
        directory = indexer.live_dir()
        print(f"index {directory}: {sum(segments(directory))} documents in segments {segments(directory)}")
        print("pending before the first round:", indexer.pending(directory))
        indexer.apply_pending(directory)  # start from an index that has applied everything
        searcher.snapshot()
        serial_base = 5_000_000 + (db.session.scalar(select(func.max(Case.id))) or 0)
        for round_number in range(1, args.rounds + 1):
            marker = f"测{round_number}批{serial_base}"
            batch_id = store_draft(app, args.count, marker, serial_base)
            serial_base += args.count
            publish_batch(db.session.get(Batch, batch_id))
            db.session.commit()
            before = match_file_stats(directory)
            profile = cProfile.Profile() if args.profile else None
            started = time.perf_counter()
            if profile:
                profile.enable()
            applied = indexer.apply_pending(directory)
            if profile:
                profile.disable()
            applied_at = time.perf_counter()
            after = match_file_stats(directory)
            searcher.snapshot()
            opened_at = time.perf_counter()
            total = search(marker, per_page=1).total
            searched_at = time.perf_counter()
            merged = indexer.merge_segments(directory)  # what a follower does next
            merged_at = time.perf_counter()
            rewritten = sorted(name for name in before if name in after and after[name] != before[name])
            removed = sorted(name for name in before if name not in after)
            print(
                f"round {round_number}: {applied} entries applied in {applied_at - started:.3f} s, "
                f"reopen {opened_at - applied_at:.3f} s, first search {searched_at - opened_at:.3f} s "
                f"({total} found); then merge {merged} segments {merged_at - searched_at:.3f} s; "
                f"segments {segments(directory)}; by the apply: match files rewritten {len(rewritten)}, "
                f"removed {len(removed)}, new {len(set(after) - set(before))}"
            )
            assert total == args.count, total
            if profile:
                path = f"{args.profile}.{round_number}"
                profile.dump_stats(path)
                pstats.Stats(path).sort_stats("cumulative").print_stats(25)
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
