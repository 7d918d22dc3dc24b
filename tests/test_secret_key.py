"""Item: no published value ever signs a session. Without GONGSHI_SECRET_KEY the
site makes a random key once in its instance folder and keeps using it."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

import config
from app import create_app

ROOT = Path(__file__).resolve().parents[1]


def make(instance: Path, **settings):
    return create_app({"DATABASE_URL": "sqlite://", "SAMPLE_DATA": False, **settings}, instance_path=str(instance))


def test_without_a_key_one_is_generated_into_the_instance_folder(tmp_path):
    site = make(tmp_path / "instance")
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert site.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(site.config["SECRET_KEY"]) >= 43


def test_the_generated_key_is_kept_across_restarts_and_differs_between_sites(tmp_path):
    first = make(tmp_path / "a").config["SECRET_KEY"]
    again = make(tmp_path / "a").config["SECRET_KEY"]
    other = make(tmp_path / "b").config["SECRET_KEY"]
    assert first == again
    assert first != other


def test_a_configured_key_is_used_and_nothing_is_written(tmp_path):
    site = make(tmp_path / "instance", SECRET_KEY="configured-key-0123456789")
    assert site.config["SECRET_KEY"] == "configured-key-0123456789"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_still_requires_the_key(tmp_path):
    with pytest.raises(RuntimeError, match="GONGSHI_SECRET_KEY"):
        make(tmp_path / "instance", ENV_NAME="production")
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_workers_starting_together_agree_on_one_key(tmp_path):
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(config.instance_secret_key(str(tmp_path)))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert sorted(os.listdir(tmp_path)) == ["secret_key"]


def test_a_truncated_key_file_is_replaced(tmp_path):
    (tmp_path / "secret_key").write_text("short")
    key = config.instance_secret_key(str(tmp_path))
    assert len(key) >= 43


def test_no_published_key_remains_in_code_or_readme():
    for path in [ROOT / "config.py", ROOT / "app.py", ROOT / "README.md"]:
        assert "dev-only-not-secret" not in path.read_text(encoding="utf-8")
