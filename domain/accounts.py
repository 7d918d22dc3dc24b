"""Staff accounts: creation and password rules."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from extensions import db
from models import User
from models.user import ROLES

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request the account rules refuse; the message is for staff."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要{MIN_PASSWORD_LENGTH}个字符")


def create_user(username: str, role: str, password: str) -> User:
    username = username.strip()
    if not username or len(username) > 80:
        raise AccountError("用户名不能为空，且不超过80个字符")
    if role not in ROLES:
        raise AccountError(f"角色应为 {'、'.join(ROLES)} 之一")
    check_password_rules(password)
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise AccountError(f"用户名“{username}”已存在")
    # werkzeug's default is scrypt, a current memory-hard algorithm.
    user = User(username=username, role=role, password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.flush()
    return user
