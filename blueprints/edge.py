"""What every request meets at the edge of the site, before any view: input with
control characters is refused (400, in Chinese) before it can reach the database."""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.exceptions import HTTPException

from domain.params import CONTROL_CHARACTER_MESSAGE, any_control_character, has_control_character


def _refuse_control_characters() -> None:
    if has_control_character(request.path) or any_control_character([*request.args.keys(), *request.args.values()]):
        abort(400, CONTROL_CHARACTER_MESSAGE)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        form = request.form
        files = request.files
    except HTTPException:
        return  # a body refused unread (too large): the view answers that
    texts = [*form.keys(), *form.values(), *files.keys(), *(upload.filename or "" for upload in files.values())]
    if request.is_json:
        texts.append(request.get_json(silent=True))
    if any_control_character(texts, line_breaks_allowed=True):
        abort(400, CONTROL_CHARACTER_MESSAGE)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_control_characters)
