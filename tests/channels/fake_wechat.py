"""A stand-in for the WeChat platform, on loopback.

- ``FakeWeChatAPI``: the customer-service message API (``/cgi-bin/token``,
  ``/cgi-bin/message/custom/send``), recording every message it is asked to send.
- ``WeChatPlatform``: what the platform does to a webhook: signed GET verification and signed
  XML POSTs, plaintext or AES-encrypted, with the reply decoded (and its signature checked).
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

import requests
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto

ACCESS_TOKEN = "fake-access-token"
# The account's settings as the tests configure both sides.
TOKEN = "test-token-2021-22"
APPID = "wx0123456789abcdef"
SECRET = "test-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # an EncodingAESKey has 43 characters


class FakeWeChatAPI:
    """The customer-service message API: issues one access token, records what is sent."""

    def __init__(self, appid: str, secret: str) -> None:
        self.appid, self.secret = appid, secret
        self.sent: List[Dict[str, Any]] = []
        self.token_requests = 0
        self.fail_with: Optional[int] = None  # an errcode to answer every send with
        self._cond = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, data: Dict[str, Any]) -> None:
                body = json.dumps(data, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/cgi-bin/token":
                    self.send_error(404)
                    return
                with api._cond:
                    api.token_requests += 1
                if q.get("appid") == api.appid and q.get("secret") == api.secret:
                    self._json({"access_token": ACCESS_TOKEN, "expires_in": 7200})
                else:
                    self._json({"errcode": 40013, "errmsg": "invalid appid"})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                data = json.loads(self.rfile.read(length).decode("utf-8") or "{}")
                if url.path != "/cgi-bin/message/custom/send":
                    self.send_error(404)
                    return
                if q.get("access_token") != ACCESS_TOKEN:
                    self._json({"errcode": 40001, "errmsg": "invalid credential"})
                    return
                if api.fail_with:
                    self._json({"errcode": api.fail_with, "errmsg": "refused"})
                    return
                with api._cond:
                    api.sent.append(data)
                    api._cond.notify_all()
                self._json({"errcode": 0, "errmsg": "ok"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakeWeChatAPI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def texts(self, openid: Optional[str] = None) -> List[str]:
        with self._cond:
            return [m["text"]["content"] for m in self.sent
                    if m.get("msgtype") == "text" and (openid is None or m["touser"] == openid)]

    def wait_for(self, count: int, openid: Optional[str] = None,
                 timeout: float = 10.0) -> List[str]:
        """The texts sent (to ``openid``) once there are at least ``count``; fails on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                texts = [m["text"]["content"] for m in self.sent
                         if openid is None or m["touser"] == openid]
                if len(texts) >= count:
                    return texts
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} customer-service messages, got {texts}")
                self._cond.wait(left)


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


@dataclass
class Reply:
    status: int
    body: str
    fields: Optional[Dict[str, str]] = None  # the (decrypted) reply XML, if it is one

    @property
    def text(self) -> Optional[str]:
        return self.fields.get("Content") if self.fields else None


class WeChatPlatform:
    """Sends what WeChat sends to a webhook: signed with ``token``, encrypted with ``aes_key``."""

    def __init__(self, url: str, token: str, appid: str = "", aes_key: str = "",
                 account: str = "gh_fake_account") -> None:
        self.url, self.token, self.appid, self.account = url, token, appid, account
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.session = requests.Session()
        self._msg_id = int(time.time() * 1000)

    def next_msg_id(self) -> str:
        self._msg_id += 1
        return str(self._msg_id)

    # -- payloads

    def xml(self, openid: str, msg_type: str, fields: Dict[str, str],
            create_time: Optional[int] = None) -> str:
        items = {"ToUserName": self.account, "FromUserName": openid,
                 "CreateTime": str(create_time or int(time.time())), "MsgType": msg_type, **fields}
        body = "".join(
            f"<{k}>{v}</{k}>" if k in ("CreateTime", "MsgId") else f"<{k}><![CDATA[{v}]]></{k}>"
            for k, v in items.items())
        return f"<xml>{body}</xml>"

    def text_xml(self, openid: str, content: str, msg_id: Optional[str] = None) -> str:
        return self.xml(openid, "text", {"Content": content, "MsgId": msg_id or self.next_msg_id()})

    # -- requests

    def query(self, timestamp: Optional[int] = None, nonce: Optional[str] = None,
              token: Optional[str] = None) -> Dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or uuid.uuid4().hex[:10]
        return {"signature": sign(token or self.token, ts, nonce), "timestamp": ts, "nonce": nonce}

    def verify(self, echostr: str = "echo-123", **query_kw: Any) -> requests.Response:
        return self.session.get(self.url, params={**self.query(**query_kw), "echostr": echostr},
                                timeout=10)

    def post(self, xml: str, encrypted: bool = False, timeout: float = 10.0,
             params: Optional[Dict[str, str]] = None, **query_kw: Any) -> Reply:
        q = self.query(**query_kw)
        q["openid"] = "o-ignored"
        body = xml.encode("utf-8") if isinstance(xml, str) else xml
        if encrypted:
            assert self.crypto is not None, "no aes_key"
            envelope = self.crypto.encrypt_message(xml, q["nonce"], q["timestamp"])
            env = {e.tag: e.text for e in fromstring(envelope)}
            q.update(encrypt_type="aes", msg_signature=env["MsgSignature"])
            body = (f"<xml><ToUserName><![CDATA[{escape(self.account)}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>").encode("utf-8")
        if params:
            q.update(params)
        r = self.session.post(self.url, params=q, data=body, timeout=timeout,
                              headers={"Content-Type": "text/xml"})
        reply = Reply(r.status_code, r.text)
        if r.status_code == 200 and r.text.lstrip().startswith("<xml>"):
            reply.fields = self._decode(r.text)
        return reply

    def send_text(self, openid: str, content: str, msg_id: Optional[str] = None,
                  **kw: Any) -> Reply:
        return self.post(self.text_xml(openid, content, msg_id), **kw)

    def _decode(self, xml: str) -> Dict[str, str]:
        fields = {e.tag: (e.text or "") for e in fromstring(xml)}
        if "Encrypt" in fields:
            assert self.crypto is not None
            expected = sign(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
            assert fields["MsgSignature"] == expected, "reply signature does not verify"
            plain = self.crypto.decrypt_message(
                {"Encrypt": fields["Encrypt"]}, fields["MsgSignature"], fields["TimeStamp"],
                fields["Nonce"])
            fields = {e.tag: (e.text or "") for e in fromstring(plain)}
        return fields
