"""A development instance's first run: an empty database gets the schema and the
sample data on the first request, and every page says 示例数据."""

from __future__ import annotations

from sqlalchemy import func, select

from domain.visibility import case_is_public_clause
from extensions import db
from models import Batch, Case
from tests.conftest import FIXED_TODAY


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_first_request_of_a_development_instance_loads_the_sample_data(tmp_path, monkeypatch):
    """`flask --app app run` on an empty database: schema, sample data, banner."""
    from app import create_app
    from domain import clock

    monkeypatch.setattr(clock, "today", lambda: FIXED_TODAY)
    application = create_app(
        {
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        }
    )
    application.instance_path = str(tmp_path / "instance")
    assert not application.testing and application.config["SAMPLE_DATA"]
    client = application.test_client()
    page = client.get("/").get_data(as_text=True)
    assert "示例数据" in page and "虚构" in page
    with application.app_context():
        assert count(Case, case_is_public_clause()) >= 150
        assert all(db.session.scalars(select(Batch.is_sample)))
        db.engine.dispose()
    hotlines = client.get("/hotlines").get_data(as_text=True)
    assert "劳动保障监察大队（示例）" in hotlines and "12333" in hotlines
    cases = client.get("/cases").get_data(as_text=True)
    assert "示例" in cases and "示例数据" in cases


def test_no_sample_data_when_disabled(tmp_path):
    from app import create_app

    application = create_app(
        {
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
            "SAMPLE_DATA": "0",
        }
    )
    application.instance_path = str(tmp_path / "instance")
    with application.app_context():
        db.create_all()
        client = application.test_client()
        assert "示例数据" not in client.get("/").get_data(as_text=True)
        assert count(Batch) == 0
        db.engine.dispose()
