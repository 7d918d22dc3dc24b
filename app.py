"""Application factory: configuration, extensions, blueprints, CLI — nothing else."""

from __future__ import annotations

import os
import warnings

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config as default_config
from extensions import csrf, db, login_manager, migrate

# Whoosh 2.7.4 has invalid escape sequences that newer Pythons warn about at import.
warnings.filterwarnings("ignore", category=SyntaxWarning, module=r"whoosh(\..*)?")


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """The site. ``instance_path`` (default: ``instance/`` beside this file) holds the
    SQLite database, the search index and the generated secret key."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(default_config.Defaults)
    if test_config is None:
        app.config.from_prefixed_env("GONGSHI")
    else:
        app.config.from_mapping(test_config)
    default_config.finish(app)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from blueprints import register_blueprints

    register_blueprints(app)

    from search_index import follower

    follower.init_app(app)

    from cli import register_commands

    register_commands(app)

    if app.config["PROXY_COUNT"]:
        # Behind n trusted proxies the client's address and scheme are the n-th
        # from the right in X-Forwarded-For / -Proto (the Host header is never
        # taken). Outermost, so a configured public base URL still has the last word.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    return app
