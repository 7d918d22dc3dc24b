"""What every request meets at the edge of the site, before and after any view:

- input with control characters is refused (400, in Chinese) before it can reach
  the database;
- the query string remembers which parameters the page read, so links built by
  ``url_with`` carry only the parameters the page understands (junk is dropped);
- with ``PUBLIC_BASE_URL`` set, every absolute URL (JSON, CSV, feeds, sitemap,
  share links) is built from it, never from the Host header;
- every answer carries the security headers: a strict Content-Security-Policy
  (scripts and styles only from ``static/``), nosniff, a referrer policy, no
  framing, and HSTS in production."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from domain.params import CONTROL_CHARACTER_MESSAGE, any_control_character, has_control_character

# --- control characters ------------------------------------------------------------


def _refuse_control_characters() -> None:
    args = request.args
    if has_control_character(request.path) or any_control_character(
        [text for pair in args.items(multi=True) for text in pair]
    ):
        abort(400, CONTROL_CHARACTER_MESSAGE)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        form = request.form
        files = request.files
    except HTTPException:
        return  # a body refused unread (too large): the view answers that
    texts = [text for pair in form.items(multi=True) for text in pair]
    texts += [text for name, upload in files.items(multi=True) for text in (name, upload.filename or "")]
    if request.is_json:
        texts.append(request.get_json(silent=True))
    if any_control_character(texts, line_breaks_allowed=True):
        abort(400, CONTROL_CHARACTER_MESSAGE)


# --- parameters a page understands ----------------------------------------------------


class ReadTrackingArgs(ImmutableMultiDict):
    """Query parameters that note which names the page has read (through ``get``,
    ``getlist``, ``[]`` or ``in``): the parameters it understands."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 (werkzeug's signature)
        self.read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        self.read.add(key)
        return super().getlist(key, type)

    def __contains__(self, key) -> bool:
        self.read.add(key)
        return super().__contains__(key)


class SiteRequest(Request):
    parameter_storage_class = ReadTrackingArgs


def understood_parameters() -> set[str]:
    """The query parameters the current page has read so far."""
    return set(getattr(request.args, "read", request.args.keys()))


# --- absolute URLs from the configured base -------------------------------------------


class PublicBaseUrl:
    """WSGI middleware: the request is seen as addressed to the configured public
    base URL (scheme, host, port, path prefix), whatever Host header it carried, so
    every absolute URL the site writes is the real one."""

    def __init__(self, app, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.app = app
        self.scheme = parts.scheme
        self.host = parts.netloc
        self.server_name = parts.hostname or ""
        self.port = str(parts.port or (443 if parts.scheme == "https" else 80))
        self.prefix = parts.path.rstrip("/")

    def __call__(self, environ, start_response):
        environ["HTTP_HOST"] = self.host
        environ["SERVER_NAME"] = self.server_name
        environ["SERVER_PORT"] = self.port
        environ["wsgi.url_scheme"] = self.scheme
        if self.prefix:
            path = environ.get("PATH_INFO", "")
            if path == self.prefix or path.startswith(self.prefix + "/"):
                environ["PATH_INFO"] = path[len(self.prefix) :]
            environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)


# --- security headers ------------------------------------------------------------------

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000"


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["ENV_NAME"] == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.request_class = SiteRequest
    if app.config.get("PUBLIC_BASE_URL"):
        app.wsgi_app = PublicBaseUrl(app.wsgi_app, app.config["PUBLIC_BASE_URL"])  # type: ignore[method-assign]
    app.before_request(_refuse_control_characters)
    app.after_request(_security_headers)
