"""Staff accounts: creation, password rules, login with lockout, and the changes
an administrator makes. Every change writes an audit event."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import case, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from domain import audit
from extensions import db
from models import User
from models.common import utcnow
from models.user import ROLES

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
# The one message for every failed login, so the page never tells whether an
# account exists, is locked or is deactivated.
LOGIN_FAILED_MESSAGE = "用户名或密码错误"
# werkzeug's scrypt: a current memory-hard algorithm (tests may choose a cheaper one).
PASSWORD_METHOD = "scrypt"
_dummy_hashes: dict[str, str] = {}


class AccountError(ValueError):
    """A request the account rules refuse; the message is for staff."""


class LoginFailed(AccountError):
    def __init__(self) -> None:
        super().__init__(LOGIN_FAILED_MESSAGE)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要{MIN_PASSWORD_LENGTH}个字符")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def _spend_time_like_a_check(password: str) -> None:
    """Check against a throwaway hash when there is no real one to check, so that
    an unknown or locked account takes as long to refuse as a wrong password."""
    if PASSWORD_METHOD not in _dummy_hashes:
        _dummy_hashes[PASSWORD_METHOD] = hash_password("not-a-real-password-0000")
    check_password_hash(_dummy_hashes[PASSWORD_METHOD], password)


def _check_username(username: str) -> str:
    username = username.strip()
    if not username or len(username) > 80:
        raise AccountError("用户名不能为空，且不超过80个字符")
    return username


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"角色应为 {'、'.join(ROLES)} 之一")


def end_sessions(user: User) -> None:
    """End every session of the account, on every device and copied cookie: the
    session version in each cookie no longer matches (counted up in the database,
    so two requests at once cannot both miss it)."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1),
        execution_options={"synchronize_session": False},
    )
    db.session.expire(user, ["session_version"])


def session_matches(user: User | None, version: str) -> bool:
    return user is not None and str(user.session_version) == version


def user_state(user: User) -> dict:
    return {"username": user.username, "role": user.role, "active": user.active}


def create_user(username: str, role: str, password: str, *, actor: User | None = None) -> User:
    """Create an account in the current transaction (the caller commits). Without
    an actor the account was created on the command line."""
    username = _check_username(username)
    _check_role(role)
    check_password_rules(password)
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise AccountError(f"用户名“{username}”已存在")
    user = User(username=username, role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        user,
        after=user_state(user),
        user=actor,
        username=None if actor else audit.CLI_ACTOR,
        summary=f"创建账号 {username}" + ("" if actor else "（命令行）"),
    )
    return user


def update_user(user: User, *, role: str, active: bool, actor: User) -> None:
    _check_role(role)
    if user.id == actor.id and (role != user.role or not active):
        raise AccountError("不能修改自己的角色或停用自己的账号，请由另一位管理员操作")
    before = user_state(user)
    user.role = role
    user.active = active
    if active and not before["active"]:
        user.failed_login_count = 0
        user.locked_until = None
    if before["active"] and not active:
        end_sessions(user)
    before, after = audit.changed_only(before, user_state(user))
    if not after:
        raise AccountError("没有修改任何内容")
    audit.record("user.update", user, before, after, actor, summary=f"修改账号 {user.username}")


def reset_password(user: User, password: str, *, actor: User) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    end_sessions(user)
    audit.record("user.password", user, user=actor, summary=f"重置账号 {user.username} 的密码")


def change_own_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current or ""):
        raise AccountError("当前密码不正确")
    if current == new:
        raise AccountError("新密码不能与当前密码相同")
    check_password_rules(new)
    user.password_hash = hash_password(new)
    end_sessions(user)  # every other session; the caller renews the one in use
    audit.record("user.password", user, user=user, summary=f"{user.username} 修改了自己的密码")


def _reserve_attempt(user: User, now: dt.datetime) -> tuple[bool, int, bool]:
    """Count this attempt as a failure before the password is checked, in one
    UPDATE (never read-modify-write), and commit it, so every worker sees it at
    once: at most ``MAX_FAILED_LOGINS`` password checks per lockout period, however
    many attempts arrive together. Answers (allowed, attempt number, locks now)."""
    reaches_limit = User.failed_login_count + 1 >= MAX_FAILED_LOGINS
    statement = (
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(
            failed_login_count=case((reaches_limit, 0), else_=User.failed_login_count + 1),
            locked_until=case((reaches_limit, now + LOCKOUT), else_=User.locked_until),
        )
        .returning(User.failed_login_count, User.locked_until)
        .execution_options(synchronize_session=False)
    )
    row = db.session.execute(statement).first()
    db.session.commit()
    if row is None:
        return False, 0, False
    count, locked_until = row
    locks_now = locked_until is not None and locked_until > now
    return True, MAX_FAILED_LOGINS if locks_now else count, locks_now


def authenticate(username: str, password: str, *, now: dt.datetime | None = None) -> User:
    """The user if the credentials are right and the account may log in; otherwise
    ``LoginFailed`` with the one generic message. Records the attempt either way
    (the caller commits in both cases; the attempt counter is committed here,
    before the password is checked)."""
    now = now or utcnow()
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    if user is None:
        _spend_time_like_a_check(password or "")
        audit.record("login_failed", username=username[:80] or None, summary="用户名不存在")
        raise LoginFailed()
    allowed, attempt, locks_now = _reserve_attempt(user, now)
    if not allowed:
        _spend_time_like_a_check(password or "")
        audit.record("login_failed", user, user=user, summary="账号锁定中")
        raise LoginFailed()
    if not check_password_hash(user.password_hash, password or ""):
        audit.record("login_failed", user, user=user, summary=f"密码错误（第{attempt}次）")
        if locks_now:
            audit.record("account_locked", user, user=user, summary=f"连续{MAX_FAILED_LOGINS}次登录失败，锁定15分钟")
        raise LoginFailed()
    if not user.active:
        audit.record("login_failed", user, user=user, summary="账号已停用")
        raise LoginFailed()
    # The right password: this attempt was no failure, and any lock it set is lifted.
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("login", user, user=user)
    return user


@dataclass
class SourceThrottle:
    """Slows down one network source that keeps failing to log in, whatever
    accounts it tries: each failure within the window adds a growing delay, and past
    ``limit`` failures the source is refused until the window passes. In memory and
    per process: it slows a guesser down; the per-account lockout is the real limit."""

    window: float = 15 * 60
    limit: int = 30
    base_delay: float = 0.25
    max_delay: float = 4.0
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, source: str, now: float) -> list[float]:
        times = [moment for moment in self._failures.get(source, []) if now - moment < self.window]
        if times:
            self._failures[source] = times
        else:
            self._failures.pop(source, None)
        return times

    def failures(self, source: str, now: float | None = None) -> int:
        with self._lock:
            return len(self._recent(source, time.monotonic() if now is None else now))

    def blocked(self, source: str, now: float | None = None) -> bool:
        return self.failures(source, now) >= self.limit

    def delay(self, source: str, now: float | None = None) -> float:
        """Seconds to wait before answering this source's next attempt."""
        count = self.failures(source, now)
        if not count:
            return 0.0
        return min(self.base_delay * 2 ** (count - 1), self.max_delay)

    def fail(self, source: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) > 10_000:  # never grow without bound
                self._failures.clear()
            self._failures[source] = [*self._recent(source, now), now]

    def succeed(self, source: str) -> None:
        with self._lock:
            self._failures.pop(source, None)
