"""One blueprint per area of the site (what they share is in ``web``)."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints import (
        admin,
        api,
        bulletins,
        check,
        discovery,
        feeds,
        gradings,
        objections,
        public,
        search,
        statistics,
    )
    from web import edge, errors, templating
    from web.site import init_app as init_site

    edge.init_app(app)  # first: input is checked before any other hook reads it
    templating.init_app(app)
    init_site(app)
    errors.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(statistics.bp)
    app.register_blueprint(check.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(objections.bp)
    app.register_blueprint(bulletins.bp)
    app.register_blueprint(gradings.bp)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(admin.bp, url_prefix="/admin")
