"""gunicorn reads this file from the directory it is started in (the settings on
its command line still apply, see README "Running in production")."""

import gc


def post_worker_init(worker) -> None:
    # Every template compiled now, before the worker takes a request: the first
    # search page a fresh worker served compiled some ten templates on the way
    # (about 150 ms, on top of the index it opens).
    jinja_env = getattr(getattr(worker, "wsgi", None), "jinja_env", None)
    if jinja_env is not None:
        for name in jinja_env.list_templates():
            jinja_env.get_template(name)
    # What a worker made while starting (modules, templates, the pinyin
    # dictionary: some 300,000 objects) lives as long as it does. Frozen, the
    # garbage collector's full passes skip it: each took over 100 ms of a
    # worker's time, every few hundred requests, stalling the requests queued
    # behind it.
    gc.freeze()
