"""``make staff-user``: adds a staff account (or resets one) in the conversation database.

    make staff-user                                   # asks for name, role and password
    make staff-user STAFF_ARGS="--username wang --role 查看"   # asks only for the password
    python -m bot.staff.cli --username wang --role manage --password-stdin < secret.txt
"""
from __future__ import annotations

import argparse
import getpass
import sys

from bot.staff import auth, db


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="make staff-user", description="添加或重置管理台账号")
    p.add_argument("--username")
    p.add_argument("--role", help="查看 (view) 或 管理 (manage)")
    p.add_argument("--display-name")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    p.add_argument("--reset", action="store_true", help="账号已存在时重置密码和角色")
    p.add_argument("--database", help="默认 TRACKER_DB_URL")
    a = p.parse_args(argv)
    username = a.username or input("用户名：").strip()
    role = a.role or input("角色（查看/管理）[查看]：").strip() or "查看"
    if a.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("密码（至少10位）：")
        if getpass.getpass("再次输入密码：") != password:
            print("两次输入的密码不一致", file=sys.stderr)
            return 2
    engine = db.engine_for(a.database)
    db.ensure_schema(engine)
    try:
        done = auth.create_or_reset(engine, username, password, role, a.display_name, reset=a.reset)
    except auth.AuthError as e:
        print(e.message, file=sys.stderr)
        return 1
    auth.audit(engine, None, f"user_{done}", target=username, detail="make staff-user")
    print(f"账号 {username}（{auth.ROLES[auth.normal_role(role)]}）已{'创建' if done == 'created' else '重置'}。"
          "登录地址：http://<助手地址>/staff/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
