"""gunicorn reads this file from the directory it is started in (the settings on
its command line still apply, see README "Running in production")."""

import gc


def post_worker_init(worker) -> None:
    # What a worker made while starting (modules, templates, the pinyin
    # dictionary: some 300,000 objects) lives as long as it does. Frozen, the
    # garbage collector's full passes skip it: each took over 100 ms of a
    # worker's time, every few hundred requests, stalling the requests queued
    # behind it.
    gc.freeze()
