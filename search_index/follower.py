"""Every process follows the search change log by itself.

A web process starts one follower thread (on its first request, so each
gunicorn worker has its own after the fork; ``SEARCH_FOLLOW`` = 0 turns it
off). Every ``SEARCH_FOLLOW_INTERVAL`` seconds, or at once when a commit in
this process wakes it (``wake``), it:

- applies the log entries this machine's index has not applied — if it gets
  the index writer without waiting; otherwise another process is applying them
  (or a rebuild runs) and this one only reopens on the new generation;
- rebuilds an index that fell behind the log's retention, or builds the index
  of a site that never had one;
- opens the newest generation, so the next search does not pay for it;
- then merges small segments if too many have piled up (``indexer.merge_segments``:
  bounded work; applying never merges, so a publish costs what it adds);
- prunes log entries past their retention, at most once an hour.

So a committed change is searchable in every process of every machine within
about a second, with no command run and whatever happened to the process that
made it (killed right after its commit: the others apply it). Staff requests
never touch the index. ``flask search follow`` runs the same loop as a process
of its own, for deployments that turn the threads off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref

from flask import Flask, current_app

from extensions import db
from search_index import changelog, indexer, searcher

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 1.0
PRUNE_EVERY = 3600.0
_EXTENSION = "gongshi_search_follower"
_started: weakref.WeakSet[Follower] = weakref.WeakSet()


class Follower:
    def __init__(self, app: Flask, interval: float):
        self.app = app
        self.interval = interval
        self.pid = os.getpid()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_prune = 0.0
        self._last_problem: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="search-follower", daemon=True)
        self._thread.start()
        _started.add(self)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._wake.wait(self.interval)
            self._wake.clear()

    def tick(self) -> None:
        with self.app.app_context():
            try:
                follow_once(self)
                self._last_problem = None
            except Exception as problem:  # keep following; say it once, not every second
                text = f"{type(problem).__name__}: {problem}"
                if text != self._last_problem:
                    log.exception("search follower: %s", text)
                self._last_problem = text
            finally:
                db.session.remove()


def follow_once(follower: Follower | None = None) -> int:
    """One pass (see the module's description). Returns the entries applied here."""
    root = indexer.index_root()
    if indexer.never_built(root):
        with contextlib.suppress(indexer.IndexBusy):
            indexer.reindex()
        return 0
    path = indexer.current_dir(root)
    state = changelog.read_applied(path) if path else None
    if state is None:
        return 0  # missing or damaged: searches say so until `flask search reindex`
    applied = 0
    if changelog.behind(state):
        log.warning("search index %s is behind the pruned change log: rebuilding", path)
        with contextlib.suppress(indexer.IndexBusy):
            indexer.reindex()
    else:
        with contextlib.suppress(indexer.IndexBusy):  # another process holds the writer: it applies
            applied = indexer.apply_pending(path, timeout=0)
        searcher.snapshot()
        # Only then, the change searchable, merge small segments if they piled up
        # (bounded work; the process that added a segment looks).
        with contextlib.suppress(indexer.IndexBusy):
            if applied and indexer.merge_segments(path, timeout=0):
                with contextlib.suppress(indexer.IndexBusy):  # what was committed during the merge
                    applied += indexer.apply_pending(path, timeout=0)
    searcher.snapshot()
    if follower is not None and time.monotonic() - follower._last_prune > PRUNE_EVERY:
        follower._last_prune = time.monotonic()
        changelog.prune()
    return applied


def _follower(app: Flask) -> Follower | None:
    return app.extensions.get(_EXTENSION)


def ensure_started(app: Flask) -> Follower:
    """This process's follower for ``app``, started if it is not running (a
    forked worker starts its own: threads do not survive a fork)."""
    follower = _follower(app)
    if follower is None or follower.pid != os.getpid() or not follower.running:
        follower = Follower(app, float(app.config.get("SEARCH_FOLLOW_INTERVAL", DEFAULT_INTERVAL)))
        app.extensions[_EXTENSION] = follower
        follower.start()
    return follower


def wake() -> None:
    """After a commit: let this process's follower look at the log now."""
    follower = _follower(current_app._get_current_object())
    if follower is not None and follower.pid == os.getpid():
        follower.wake()


def stop(app: Flask) -> None:
    """Stop this process's follower for ``app`` (tests, shutdown)."""
    follower = app.extensions.pop(_EXTENSION, None)
    if follower is not None and follower.pid == os.getpid():
        follower.stop()


def stop_all() -> None:
    """Stop every follower this process started (tests: no thread outlives its test)."""
    for follower in list(_started):
        if follower.pid == os.getpid():
            follower.stop()
    _started.clear()


def init_app(app: Flask) -> None:
    if not _enabled(app):
        return

    @app.before_request
    def _start_search_follower() -> None:
        follower = _follower(app)
        if follower is None or follower.pid != os.getpid() or not follower.running:
            ensure_started(app)


def _enabled(app: Flask) -> bool:
    value = app.config.get("SEARCH_FOLLOW")
    if value is None:  # default: on, except in tests (they start one when they need it)
        return not app.testing
    return str(value).lower() not in ("0", "false", "no", "")


def run_forever(app: Flask, interval: float | None = None) -> None:
    """``flask search follow``: the loop in the foreground until interrupted."""
    follower = Follower(app, interval or float(app.config.get("SEARCH_FOLLOW_INTERVAL", DEFAULT_INTERVAL)))
    with contextlib.suppress(KeyboardInterrupt):
        follower.run()
