"""Configuration defaults. Every key can be overridden by an environment variable
with the ``GONGSHI_`` prefix (``app.config.from_prefixed_env("GONGSHI")``); values
that parse as JSON (numbers, lists, booleans) are taken as such."""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit

# The districts of the first deployment (兰州市). Another city sets
# GONGSHI_DISTRICTS='["…","…"]'.
LANZHOU_DISTRICTS = [
    "城关区",
    "七里河区",
    "西固区",
    "安宁区",
    "红古区",
    "永登县",
    "皋兰县",
    "榆中县",
    "兰州新区",
]

# Their region codes (GB/T 2260, the 3rd–8th characters of a credit code), so a
# graded enterprise not otherwise known is counted in its district. Another city
# sets GONGSHI_DISTRICT_CODES='{"……": "……"}'.
LANZHOU_DISTRICT_CODES = {
    "620102": "城关区",
    "620103": "七里河区",
    "620104": "西固区",
    "620105": "安宁区",
    "620111": "红古区",
    "620121": "永登县",
    "620122": "皋兰县",
    "620123": "榆中县",
}
PUBLISH_GRADES_CHOICES = ("none", "counts", "a-list", "all")


class Defaults:
    ENV_NAME = "development"  # "production" requires a secret key and never loads sample data
    SECRET_KEY = None
    DATABASE_URL = None  # default: SQLite in the instance folder
    SEARCH_INDEX_DIR = None  # default: <instance>/search_index
    SAMPLE_DATA = True
    FOUR_EYES = True
    AUTHORITY_NAME = "兰州市人力资源和社会保障局"
    AUTHORITY_SHORT_NAME = "兰州市人社局"
    CITY_NAME = "兰州市"
    SITE_NAME = "劳动保障监察信息公示"
    DISTRICTS = LANZHOU_DISTRICTS
    DISTRICT_CODES = LANZHOU_DISTRICT_CODES
    # What the public sees of the 守法诚信等级评价: none, counts (per grade and
    # district), a-list (counts and the A-graded enterprises) or all (every grade).
    PUBLISH_GRADES = "a-list"
    # Where the public sends 异议 (objections) and 信用修复 (early removal) requests;
    # shown on /objections and /about. None leaves a line out; the unit defaults
    # to AUTHORITY_NAME.
    OBJECTION_UNIT = None
    OBJECTION_PHONE = "12333"
    OBJECTION_ADDRESS = None
    OBJECTION_EMAIL = None
    OBJECTION_HOURS = None
    CREDIT_REPAIR_UNIT = None
    CREDIT_REPAIR_PHONE = None  # None: the objection phone
    CREDIT_REPAIR_ADDRESS = None
    # Objections filed from one network address (keyed hash) per hour and per day.
    OBJECTION_LIMIT_PER_HOUR = 3
    OBJECTION_LIMIT_PER_DAY = 10
    SITEMAP_MAX_URLS = 50_000  # past this /sitemap.xml becomes an index of files (the protocol's limit)
    DEFAULT_LISTING_TERM_YEARS = 3
    # The indicators of work bulletins (工作通报): a JSON list of
    # {"name", "unit", "lower_is_better"}; None: domain.bulletins.DEFAULT_INDICATORS.
    BULLETIN_INDICATORS = None
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # uploads larger than this are refused
    # One import (upload or flask import): data rows at most, and an XLSX file's
    # parts unpacked at most (a zip bomb is refused before it is unpacked).
    IMPORT_MAX_ROWS = 20_000
    IMPORT_MAX_UNPACKED_MB = 100
    PER_PAGE_DEFAULT = 20
    PER_PAGE_MAX = 100
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 30 * 60  # seconds of inactivity before a staff session ends
    SESSION_REFRESH_EACH_REQUEST = True
    # How many reverse proxies (nginx, a load balancer) stand in front of the site
    # and append to X-Forwarded-For / X-Forwarded-Proto. 0: the client is the
    # connecting address. Set it to exactly the number of proxies you run: a
    # higher number lets clients choose the address the login throttle and the
    # objection limit see.
    PROXY_COUNT = 0
    # Search: every web process follows the change log in a thread (None: on,
    # except in tests); how often it looks; how long log entries are kept; how
    # long a number that became visible out of order is waited for.
    SEARCH_FOLLOW = None
    SEARCH_FOLLOW_INTERVAL = 1.0
    SEARCH_LOG_RETENTION_DAYS = 7
    SEARCH_LOG_GAP_SECONDS = 3600
    # The address the public reaches the site at, e.g. "https://gongshi.example.gov.cn"
    # (a path prefix is allowed). Every absolute URL (API, CSV, feeds, sitemap) is
    # built from it rather than from the request's Host header. Required in
    # production unless TRUSTED_HOSTS lists the accepted host names.
    PUBLIC_BASE_URL = None
    TRUSTED_HOSTS = None  # Flask: a request for any other Host is refused (400)
    SERVED_BY_HEADER = False  # benchmarks: search answers say which process served them (X-Served-By)


SECRET_KEY_FILE = "secret_key"


def instance_secret_key(instance_path: str) -> str:
    """The key in ``<instance>/secret_key``, made once from the operating system's
    random source (readable by the owner only). Outside production a site without
    GONGSHI_SECRET_KEY signs its sessions with this, never with a value anyone can
    read in the source. Several workers starting at once agree on one key: the file
    appears complete or not at all (written aside, then linked into place)."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    for _attempt in range(2):
        try:
            with open(path, encoding="ascii") as existing:
                key = existing.read().strip()
            if len(key) >= 32:
                return key
            os.replace(path, path + ".broken")  # too short to trust: set aside, make a new one
        except FileNotFoundError:
            pass
        pending = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as fresh:
            fresh.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(pending, path)  # fails if another worker was first: then use theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(pending)
    with open(path, encoding="ascii") as existing:
        return existing.read().strip()


def finish(app) -> None:
    """Derive the settings that depend on others or on the instance folder."""
    config = app.config
    production = config["ENV_NAME"] == "production"
    if not config.get("SECRET_KEY"):
        if production:
            raise RuntimeError("GONGSHI_SECRET_KEY must be set in production")
        config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    base_url = (config.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise RuntimeError("GONGSHI_PUBLIC_BASE_URL must look like https://gongshi.example.gov.cn[/prefix]")
    config["PUBLIC_BASE_URL"] = base_url or None
    if production and not (config["PUBLIC_BASE_URL"] or config.get("TRUSTED_HOSTS")):
        raise RuntimeError("GONGSHI_PUBLIC_BASE_URL (or GONGSHI_TRUSTED_HOSTS) must be set in production")
    if production:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        config["SAMPLE_DATA"] = False
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "gongshi.db")
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    if not config.get("SEARCH_INDEX_DIR"):
        config["SEARCH_INDEX_DIR"] = os.path.join(app.instance_path, "search_index")
    config["PROXY_COUNT"] = int(config.get("PROXY_COUNT") or 0)
    if config["PROXY_COUNT"] < 0:
        raise RuntimeError("GONGSHI_PROXY_COUNT must be 0 or more")
    config["SAMPLE_DATA"] = str(config["SAMPLE_DATA"]).lower() not in ("0", "false", "no", "")
    config["FOUR_EYES"] = str(config["FOUR_EYES"]).lower() not in ("0", "false", "no", "")
    config["PUBLISH_GRADES"] = str(config["PUBLISH_GRADES"]).strip().lower()
    if config["PUBLISH_GRADES"] not in PUBLISH_GRADES_CHOICES:
        raise RuntimeError("GONGSHI_PUBLISH_GRADES must be one of: " + ", ".join(PUBLISH_GRADES_CHOICES))
