"""Staff accounts, passwords, sessions, CSRF tokens, lock-out and the audit log.

- Passwords are hashed with argon2id (argon2-cffi's defaults); a hash made with older parameters
  is rehashed at the next sign-in.
- A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256. It ends
  after ``STAFF_SESSION_IDLE_MINUTES`` without a request, and at the latest
  ``STAFF_SESSION_HOURS`` after sign-in (defaults in bot/settings.py, like every setting's).
- Each session has its own CSRF token, which every write must send back (``X-CSRF-Token``).
- ``STAFF_MAX_FAILURES`` wrong passwords in a row lock the account for
  ``STAFF_LOCK_MINUTES``; the lock and the failures are in the database, so every worker
  and every server sharing it sees them.
- Roles: ``view`` (查看: read everything) and ``manage`` (管理: also reply to hand-offs,
  manage accounts).
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.settings import Settings
from bot.settings import current as current_settings
from bot.staff import db

logger = logging.getLogger(__name__)

ROLES = {"view": "查看", "manage": "管理"}
ROLE_ALIASES = {"view": "view", "查看": "view", "read": "view",
                "manage": "manage", "管理": "manage", "admin": "manage"}
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-@]{2,64}$")
MIN_PASSWORD_CHARS = 10

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that the answer takes as long.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def settings() -> Dict[str, float]:
    """Session and lock-out limits in seconds (bot/settings.py: STAFF_SESSION_*, STAFF_MAX_FAILURES,
    STAFF_LOCK_MINUTES)."""
    s = current_settings()
    return {
        "idle": s.staff_session_idle_minutes * 60,
        "absolute": s.staff_session_hours * 3600,
        "max_failures": s.staff_max_failures,
        "lock": s.staff_lock_minutes * 60,
    }


class AuthError(Exception):
    """A sign-in or account request refused; ``message`` is safe to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class User:
    id: int
    username: str
    role: str
    display_name: Optional[str] = None

    @property
    def can_manage(self) -> bool:
        return self.role == "manage"

    def to_json(self) -> Dict[str, Any]:
        return {"username": self.username, "role": self.role, "role_name": ROLES[self.role],
                "display_name": self.display_name}


@dataclass
class Session:
    user: User
    csrf: str
    expires_at: float


def normal_role(role: str) -> str:
    value = ROLE_ALIASES.get(str(role).strip())
    if value is None:
        raise AuthError(400, "角色只能是“查看”（view）或“管理”（manage）")
    return value


def check_password_rules(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(400, f"密码至少{MIN_PASSWORD_CHARS}个字符")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------- audit


def audit(engine: sa.engine.Engine, username: Optional[str], action: str,
          target: Optional[str] = None, detail: Optional[str] = None,
          ip: Optional[str] = None) -> None:
    with engine.begin() as conn:
        conn.execute(db.audit.insert().values(
            at=time.time(), username=username, action=action[:64],
            target=(target or None) and str(target)[:255], detail=detail, ip=(ip or None) and ip[:64]))


# ---------------------------------------------------------------------------------------- accounts


def has_accounts(engine: sa.engine.Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.select(db.users.c.id).where(db.users.c.disabled == sa.false())
                            .limit(1)).first() is not None


def list_users(engine: sa.engine.Engine) -> List[Dict[str, Any]]:
    u = db.users.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(u.username, u.role, u.display_name, u.created_at,
                                      u.locked_until, u.disabled).order_by(u.username)).mappings()
        now = time.time()
        return [{"username": r["username"], "role": r["role"], "role_name": ROLES.get(r["role"]),
                 "display_name": r["display_name"], "created_at": r["created_at"],
                 "locked": bool(r["locked_until"] and r["locked_until"] > now),
                 "disabled": bool(r["disabled"])} for r in rows]


def create_or_reset(engine: sa.engine.Engine, username: str, password: str, role: str,
                    display_name: Optional[str] = None, reset: bool = True) -> str:
    """Creates the account, or (``reset``) sets the password and role of an existing one and
    unlocks it. Returns "created" or "reset"."""
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise AuthError(400, "用户名为2-64个字母、数字或 _ . - @")
    check_password_rules(password)
    role = normal_role(role)
    hashed = _hasher.hash(password)
    u = db.users.c
    with engine.begin() as conn:
        existing = conn.execute(sa.select(u.id).where(u.username == username)).first()
        if existing is not None:
            if not reset:
                raise AuthError(409, f"用户 {username} 已存在")
            conn.execute(db.users.update().where(u.id == existing.id).values(
                password_hash=hashed, role=role, failed_logins=0, locked_until=None,
                disabled=False, **({"display_name": display_name} if display_name else {})))
            conn.execute(db.sessions.delete().where(db.sessions.c.user_id == existing.id))
            return "reset"
        conn.execute(db.users.insert().values(
            username=username, password_hash=hashed, role=role, display_name=display_name,
            created_at=time.time(), failed_logins=0, locked_until=None, disabled=False))
        return "created"


def set_disabled(engine: sa.engine.Engine, username: str, disabled: bool) -> None:
    u = db.users.c
    with engine.begin() as conn:
        row = conn.execute(sa.select(u.id).where(u.username == username)).first()
        if row is None:
            raise AuthError(404, f"没有用户 {username}")
        conn.execute(db.users.update().where(u.id == row.id).values(disabled=disabled))
        if disabled:
            conn.execute(db.sessions.delete().where(db.sessions.c.user_id == row.id))


def bootstrap_admin(engine: sa.engine.Engine, env: Optional[Dict[str, str]] = None) -> Optional[str]:
    """``STAFF_ADMIN_USER`` + ``STAFF_ADMIN_PASSWORD`` (of ``env``, default the environment), when
    both are set: create that admin or reset its password. Returns what was done, or None."""
    s = current_settings() if env is None else Settings.from_env(env, check=False, lenient=True)
    user, password = s.staff_admin_user.strip(), s.staff_admin_password
    if not user or not password:
        if user or password:
            logger.warning("staff console: STAFF_ADMIN_USER and STAFF_ADMIN_PASSWORD must both be set")
        return None
    done = create_or_reset(engine, user, password, "manage")
    audit(engine, None, f"admin_{done}", target=user, detail="STAFF_ADMIN_USER at start")
    logger.info("staff console: admin account %s %s", user, done)
    return done


# ---------------------------------------------------------------------------------------- sign-in


def login(engine: sa.engine.Engine, username: str, password: str,
          ip: Optional[str] = None) -> tuple:
    """(session token, Session) for the right password; AuthError otherwise (401 wrong,
    423 locked)."""
    s = settings()
    now = time.time()
    u = db.users.c
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise AuthError(400, "请输入用户名和密码")
    with engine.connect() as conn:
        row = conn.execute(sa.select(db.users).where(u.username == username.strip())).mappings().first()
    if row is None or row["disabled"]:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        audit(engine, username[:64], "login_failed", detail="unknown user", ip=ip)
        raise AuthError(401, "用户名或密码错误")
    if row["locked_until"] and row["locked_until"] > now:
        audit(engine, row["username"], "login_locked", ip=ip)
        minutes = max(1, int((row["locked_until"] - now + 59) // 60))
        raise AuthError(423, f"连续登录失败次数过多，账号已锁定，请{minutes}分钟后再试或联系管理员")
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        failures = (row["failed_logins"] or 0) + 1
        values: Dict[str, Any] = {"failed_logins": failures}
        locked = failures >= s["max_failures"]
        if locked:
            values.update(locked_until=now + s["lock"], failed_logins=0)
        with engine.begin() as conn:
            conn.execute(db.users.update().where(u.id == row["id"]).values(**values))
        audit(engine, row["username"], "account_locked" if locked else "login_failed", ip=ip)
        if locked:
            raise AuthError(423, "连续登录失败次数过多，账号已锁定，请稍后再试或联系管理员")
        raise AuthError(401, "用户名或密码错误")
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + s["absolute"]
    values = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _hasher.hash(password)
    with engine.begin() as conn:
        conn.execute(db.users.update().where(u.id == row["id"]).values(**values))
        conn.execute(db.sessions.delete().where(db.sessions.c.expires_at < now))
        conn.execute(db.sessions.insert().values(
            token_hash=_token_hash(token), user_id=row["id"], csrf=csrf, created_at=now,
            last_seen=now, expires_at=expires))
    audit(engine, row["username"], "login", ip=ip)
    user = User(row["id"], row["username"], row["role"], row["display_name"])
    return token, Session(user, csrf, expires)


def session_for(engine: sa.engine.Engine, token: Optional[str]) -> Optional[Session]:
    """The live session of this cookie, or None (unknown, idle too long, expired, account
    disabled). Keeps the session alive."""
    if not token or len(token) > 200:
        return None
    s = settings()
    now = time.time()
    sc, u = db.sessions.c, db.users.c
    h = _token_hash(token)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(sc.csrf, sc.last_seen, sc.expires_at, u.id, u.username, u.role,
                      u.display_name, u.disabled)
            .select_from(db.sessions.join(db.users, u.id == sc.user_id))
            .where(sc.token_hash == h)).first()
    if row is None:
        return None
    if row.disabled or row.expires_at <= now or now - row.last_seen > s["idle"]:
        with engine.begin() as conn:
            conn.execute(db.sessions.delete().where(sc.token_hash == h))
        return None
    if now - row.last_seen > 30:  # one write a half-minute at most
        with engine.begin() as conn:
            conn.execute(db.sessions.update().where(sc.token_hash == h).values(last_seen=now))
    return Session(User(row.id, row.username, row.role, row.display_name), row.csrf, row.expires_at)


def logout(engine: sa.engine.Engine, token: Optional[str]) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(db.sessions.delete().where(db.sessions.c.token_hash == _token_hash(token)))


def csrf_ok(session: Session, sent: Optional[str]) -> bool:
    return bool(sent) and secrets.compare_digest(session.csrf, str(sent))
