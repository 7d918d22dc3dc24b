"""Error pages in Chinese (HTML) or JSON (under /api/). When the database cannot
be reached, a static page that needs nothing else (503, Retry-After)."""

from __future__ import annotations

import contextlib
import os
from functools import cache

from flask import Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from domain.params import ParameterError
from extensions import db

HEADINGS = {
    400: "请求有误",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的请求方式",
    410: "信息已停止公开",
    413: "文件太大",
    429: "请求过于频繁",
    500: "服务器出错了",
    503: "服务暂时不可用",
}
MESSAGES = {
    403: "您没有访问这个页面的权限。",
    404: "您要找的页面不存在，可能是链接有误或已被移动。",
    405: "该地址不支持这种请求方式。",
    413: "上传的文件超过了大小限制。",
    429: "请稍后再试。",
    500: "服务器暂时无法处理这个请求，我们已记录这个错误。请稍后再试。",
    503: "网站的数据服务暂时无法访问，请稍后再试。",
}
RETRY_AFTER_SECONDS = 60


@cache
def _static_page(static_folder: str) -> bytes:
    with open(os.path.join(static_folder, "errors", "503.html"), "rb") as page:
        return page.read()


def unavailable_response() -> Response:
    """The answer while the database is down: a static page (or JSON), rendered
    from nothing that could need the database."""
    if wants_json():
        body = {"error": {"status": 503, "message": MESSAGES[503]}}
        response = jsonify(body)
        response.status_code = 503
    else:
        page = _static_page(current_app.static_folder or "static")
        response = Response(page, status=503, content_type="text/html; charset=utf-8")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def database_unreachable(error: BaseException) -> bool:
    """A failure to reach the database (connection refused or lost, locked, no
    connection free in the pool), not a fault of the query."""
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_response(code: int, message: str | None = None):
    heading = HEADINGS.get(code, "出错了")
    message = message or MESSAGES.get(code) or heading
    if wants_json():
        return jsonify({"error": {"status": code, "message": message}}), code
    try:
        return render_template("errors/error.html", code=code, heading=heading, message=message), code
    except SQLAlchemyError:  # the page's own frame needs the database, which is down
        _quiet_rollback()
        return unavailable_response(), 503


def _quiet_rollback() -> None:
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        # Werkzeug's English default descriptions are replaced by our own text.
        own_text = error.description if error.description != type(error).description else None
        response, code = error_response(error.code, own_text)
        return response, code

    @app.errorhandler(ParameterError)
    def bad_parameter(error: ParameterError):
        # Any page, download or API answer: a query parameter we cannot understand.
        return error_response(400, str(error))

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        _quiet_rollback()
        if error.original_exception is not None and database_unreachable(error.original_exception):
            return unavailable_response()
        return error_response(500)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_down(error: SQLAlchemyError):
        _quiet_rollback()
        current_app.logger.error("database unreachable: %s", error)
        return unavailable_response()
