"""Error pages in Chinese (HTML) or JSON (under /api/)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
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
}
MESSAGES = {
    403: "您没有访问这个页面的权限。",
    404: "您要找的页面不存在，可能是链接有误或已被移动。",
    405: "该地址不支持这种请求方式。",
    413: "上传的文件超过了大小限制。",
    429: "请稍后再试。",
    500: "服务器暂时无法处理这个请求，我们已记录这个错误。请稍后再试。",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_response(code: int, message: str | None = None):
    heading = HEADINGS.get(code, "出错了")
    message = message or MESSAGES.get(code) or heading
    if wants_json():
        return jsonify({"error": {"status": code, "message": message}}), code
    return render_template("errors/error.html", code=code, heading=heading, message=message), code


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
        db.session.rollback()
        return error_response(500)
