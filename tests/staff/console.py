"""Signing in to the staff console's API in the tests: one session, its CSRF header set."""
from __future__ import annotations

from typing import Tuple

import requests


def login(server, username: str, password: str, **headers) -> Tuple[requests.Session, requests.Response]:
    """A session after a sign-in attempt, and the attempt's response (which may be refused)."""
    s = requests.Session()
    r = s.post(server.base + "/staff/api/login", json={"username": username, "password": password},
               headers=headers, timeout=30)
    s.headers["X-CSRF-Token"] = r.json().get("csrf_token", "") if r.ok else ""
    return s, r


def signed_in(server, username: str, password: str) -> requests.Session:
    """A session signed in; the test fails here if the sign-in is refused."""
    s, r = login(server, username, password)
    assert r.status_code == 200, r.text
    return s
