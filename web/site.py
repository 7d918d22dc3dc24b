"""What every page shares: site settings in templates, the 示例数据 banner, and
the first-run sample data of a development instance."""

from __future__ import annotations

import threading

from flask import Flask, current_app, request
from sqlalchemy import exists, select

from domain.first_run import ensure_schema_and_sample_data
from extensions import db
from models import Batch

_first_run_lock = threading.Lock()


# Built once: every page asks (SQLAlchemy then reuses the compiled statement).
_SAMPLE_PUBLISHED = select(exists().where(Batch.is_sample.is_(True), Batch.status == "published"))


def sample_data_shown() -> bool:
    """True while any published batch is sample data, so every page can say so."""
    return bool(db.session.scalar(_SAMPLE_PUBLISHED))


def _ensure_first_run_data(app: Flask) -> None:
    """A development instance with an empty database gets its schema and the
    sample data on the first request, so a newcomer sees a full site. The thread
    lock spares this process's other threads the database lock, which is what
    keeps other processes from loading the data a second time."""
    if app.extensions.get("gongshi_first_run_done"):
        return
    with _first_run_lock:
        if app.extensions.get("gongshi_first_run_done"):
            return
        ensure_schema_and_sample_data()
        app.extensions["gongshi_first_run_done"] = True


def init_app(app: Flask) -> None:
    if app.config["SAMPLE_DATA"] and app.config["ENV_NAME"] != "production" and not app.testing:

        @app.before_request
        def first_run_data() -> None:
            if request.endpoint == "static":  # files never need the database
                return
            _ensure_first_run_data(current_app._get_current_object())

    @app.context_processor
    def site_context() -> dict:
        config = current_app.config
        return {
            "site": {
                "name": config["SITE_NAME"],
                "authority": config["AUTHORITY_NAME"],
                "authority_short": config["AUTHORITY_SHORT_NAME"],
                "city": config["CITY_NAME"],
                "districts": config["DISTRICTS"],
            },
            "sample_data_shown": sample_data_shown,
        }
