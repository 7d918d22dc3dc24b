"""How long a publisher waits for a big batch, and how long until it is found.

Stores a draft batch of N fictional cases in a fresh SQLite database (default
20,000), builds the search index, starts this process's search follower (as a
web worker has), publishes the batch through the staff page (POST
/admin/batches/<id>/publish with the test client) and prints how long the
request took and how long until search finds all N records.

    python bench/publish_batch.py            # N=20000, in /tmp/gongshi-publish-bench
    N=1000 python bench/publish_batch.py
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from domain import accounts  # noqa: E402
from domain.importing import ImportSettings, check_file, store_batch  # noqa: E402
from extensions import db  # noqa: E402
from search_index import follower, indexer, search  # noqa: E402
from tests.admin_support import login, make_user, post  # noqa: E402
from tests.builders import case_row, credit_code, to_csv  # noqa: E402
from tests.conftest import FreshGlobalsClient  # noqa: E402


def main() -> None:
    count = int(os.environ.get("N", "20000"))
    work = Path(os.environ.get("WORK", "/tmp/gongshi-publish-bench"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    accounts.PASSWORD_METHOD = "pbkdf2:sha256:1000"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SAMPLE_DATA": False,
            "FOUR_EYES": False,
            "DATABASE_URL": f"sqlite:///{work / 'site.db'}",
            "SEARCH_INDEX_DIR": str(work / "index"),
        }
    )
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        db.create_all()
        make_user("publisher", "publisher")
        rows = [
            case_row(
                违法主体名称=f"兰州万批{i}号建设有限公司",
                统一社会信用代码=credit_code(i),
                文书编号=f"兰万〔2025〕{i}号",
            )
            for i in range(1, count + 1)
        ]
        report = check_file(to_csv("cases", rows), "b.csv", "cases", ImportSettings.from_config(app.config))
        batch = store_batch("cases", report.records, title="2025年第一批", authority="兰州市人力资源和社会保障局")
        batch.status = "submitted"
        db.session.commit()
        batch_id = batch.id
        indexer.reindex()
        follower.ensure_started(app)
        client = app.test_client()
        login(client, "publisher")
        started = time.monotonic()
        response = post(client, f"/admin/batches/{batch_id}/publish")
        answered = time.monotonic() - started
        assert response.status_code == 303, response.status_code
        while search("万批").total < count:
            time.sleep(0.05)
        found = time.monotonic() - started
        follower.stop_all()
    print(f"{count} records: the publish request answered in {answered:.2f} s; all searchable after {found:.2f} s")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
