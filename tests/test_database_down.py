"""When the database cannot be reached the site answers a static Chinese 503 page
(JSON under /api/) that needs no database, and static files are still served."""

from __future__ import annotations

import pytest

from app import create_app
from extensions import db

UNREACHABLE = [
    "postgresql+psycopg://postgres@127.0.0.1:9/nothing?connect_timeout=2",  # nothing listens on port 9
    "sqlite:////nonexistent-folder/for/gongshi.db",
]


@pytest.fixture(params=UNREACHABLE, ids=["postgresql", "sqlite"])
def down(request, tmp_path):
    """A development site (first-run sample data on) whose database is unreachable."""
    site = create_app(
        {"DATABASE_URL": request.param, "SECRET_KEY": "x", "SEARCH_INDEX_DIR": str(tmp_path / "index")},
        instance_path=str(tmp_path / "instance"),
    )
    assert site.config["SAMPLE_DATA"] and not site.testing
    yield site.test_client()
    with site.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("url", ["/", "/cases", "/listings/1", "/search?q=建筑", "/admin/login", "/nowhere"])
def test_pages_answer_a_static_chinese_503(down, url):
    with down.get(url) as response:
        text = response.get_data(as_text=True)
    assert response.status_code == 503, url
    assert "服务暂时不可用" in text and "请稍后" in text
    assert "Internal Server Error" not in text
    assert response.headers["Retry-After"] == "60"
    assert response.mimetype == "text/html"


def test_the_api_answers_503_in_json(down):
    with down.get("/api/v1/cases") as response:
        assert response.status_code == 503
        assert response.get_json()["error"]["status"] == 503


@pytest.mark.parametrize(
    "path", ["/static/css/site.css", "/static/vendor/htmx-2.0.11.min.js", "/static/errors/503.html"]
)
def test_static_files_are_still_served(down, path):
    with down.get(path) as response:
        assert response.status_code == 200, path


def test_no_free_connection_in_the_pool_is_a_503_too(tmp_path):
    """Every pooled connection busy past the pool's timeout: 503, not 500."""
    site = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'busy.db'}",
            "SECRET_KEY": "x",
            "SAMPLE_DATA": False,
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.1},
        },
        instance_path=str(tmp_path / "instance"),
    )
    with site.app_context():
        db.create_all()
        held = db.engine.connect()  # the only connection, taken
        try:
            with site.test_client().get("/cases") as response:
                assert response.status_code == 503
        finally:
            held.close()
            db.engine.dispose()
