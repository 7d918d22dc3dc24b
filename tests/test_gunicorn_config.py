"""The gunicorn settings file the site's workers start with."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_worker_freezes_what_it_made_while_starting():
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the test process keeps collecting as before


def test_a_worker_compiles_every_template_before_its_first_request(app):
    class Worker:
        wsgi = app

    app.jinja_env.cache.clear()
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    try:
        hooks["post_worker_init"](worker=Worker())
    finally:
        gc.unfreeze()
    compiled = {name for (_, name) in app.jinja_env.cache}
    assert {"base.html", "search/search.html", "search/_results.html"} <= compiled
    assert compiled == set(app.jinja_env.list_templates())
