"""deploy/nginx/shanqu26-https.conf, the HTTPS front end, run by nginx itself on loopback in
front of the real assistant: with a self-signed certificate in place of the department's, on free
ports in place of 443 and 80, and its files in a temporary directory. Everything else (routing,
limits, headers, the staff console's allow-list) is tested as it is deployed."""
from __future__ import annotations

import datetime
import ipaddress
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from bot.launcher import free_port

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx" / "shanqu26-https.conf"
STAFF_ALLOW = ROOT / "deploy" / "nginx" / "shanqu26-staff-allow.conf"
LOOPBACK = "127.0.0.1"


def self_signed(directory: Path) -> tuple:
    """A certificate for 127.0.0.1 and localhost, as the department's would be for its name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt, pem = directory / "shanqu26.crt", directory / "shanqu26.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    os.chmod(directory, 0o755)
    return crt, pem


def render(directory: Path, https_port: int, http_port: int, upstream_port: int, staff_allow: str) -> Path:
    """The deployed file with this machine's ports and paths; wrapped in the main configuration
    Debian's nginx.conf provides (events, http)."""
    crt, key = self_signed(directory)
    (directory / "staff-allow.conf").write_text(staff_allow)
    conf = CONF.read_text(encoding="utf-8")
    for pattern, replacement in [
        (r"listen 443 ssl;", f"listen {LOOPBACK}:{https_port} ssl;"),
        (r"listen 80;", f"listen {LOOPBACK}:{http_port};"),
        (r"server 127\.0\.0\.1:5005 ", f"server {LOOPBACK}:{upstream_port} "),
        (r"ssl_certificate\s+/\S+;", f"ssl_certificate {crt};"),
        (r"ssl_certificate_key\s+/\S+;", f"ssl_certificate_key {key};"),
        (r"access_log /var/log/nginx/\S+;", f"access_log {directory}/access.log;"),
        (r"error_log  /var/log/nginx/\S+ warn;", f"error_log {directory}/error.log warn;"),
        (r"include /etc/nginx/shanqu26-staff-allow\.conf;", f"include {directory}/staff-allow.conf;"),
    ]:
        conf, n = re.subn(pattern, replacement, conf)
        assert n, f"{CONF.name} no longer has {pattern!r}"
    (directory / "shanqu26.conf").write_text(conf)
    temp = "".join(f"    {k}_temp_path {directory}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    main = directory / "nginx.conf"
    main.write_text(f"{user}worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
                    f"events {{ worker_connections 64; }}\n"
                    f"http {{\n{temp}    access_log {directory}/access.log;\n    include {directory}/shanqu26.conf;\n}}\n")
    return main


class FrontEnd:
    def __init__(self, binary: str, directory: Path, upstream_port: int, staff_allow: str) -> None:
        self.binary, self.dir = binary, directory
        self.https_port, self.http_port = free_port(), free_port()
        self.conf = render(directory, self.https_port, self.http_port, upstream_port, staff_allow)
        self.base = f"https://{LOOPBACK}:{self.https_port}"
        self.ca = str(directory / "shanqu26.crt")
        self.proc = None

    def check(self) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, "-t", "-p", str(self.dir), "-e", str(self.dir / "error.log"),
                               "-c", str(self.conf)], capture_output=True, text=True, timeout=30)

    def __enter__(self) -> "FrontEnd":
        checked = self.check()
        assert checked.returncode == 0, checked.stderr
        self.proc = subprocess.Popen([self.binary, "-p", str(self.dir), "-e", str(self.dir / "error.log"),
                                      "-c", str(self.conf), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/nginx-health", verify=self.ca, timeout=2)
                return self
            except requests.ConnectionError:
                assert self.proc.poll() is None, (self.dir / "error.log").read_text()
                time.sleep(0.1)
        raise TimeoutError("nginx did not start")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            self.proc.wait(timeout=15)

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.base + path, verify=self.ca, timeout=60, allow_redirects=False, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return requests.post(self.base + path, verify=self.ca, timeout=60, **kw)


def upstream_port(assistant) -> int:
    return int(assistant.base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def front(nginx_binary, assistant, tmp_path_factory):
    with FrontEnd(nginx_binary, tmp_path_factory.mktemp("nginx-https"), upstream_port(assistant),
                  STAFF_ALLOW.read_text()) as f:
        yield f


def test_configuration_passes_nginx_t(nginx_binary, tmp_path):
    checked = FrontEnd(nginx_binary, tmp_path, 5005, STAFF_ALLOW.read_text()).check()
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


@pytest.mark.e2e
def test_a_question_over_https_is_answered_with_security_headers(front):
    r = front.post("/webhooks/rest/webhook", json={"sender": "nginx-https-1", "message": "创业担保贷款有什么优惠"})
    assert r.status_code == 200, r.text
    messages = r.json()
    assert any("创业担保贷款" in (m.get("text") or "") for m in messages), messages
    assert any(c["clause_id"] == "m7" for m in messages for c in (m.get("custom") or {}).get("citations", []))
    for header in SECURITY_HEADERS:
        assert r.headers.get(header), f"{header} missing: {dict(r.headers)}"
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert r.headers["Server"] == "nginx"  # no version


@pytest.mark.e2e
def test_the_widget_script_is_served_with_headers(front):
    r = front.get("/webhooks/widget/widget.js")
    assert r.status_code == 200 and "javascript" in r.headers["Content-Type"]
    # One value each: the assistant's own header is not doubled by nginx.
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.e2e
def test_connections_to_the_assistant_are_kept_alive(front, assistant):
    import psutil

    session = requests.Session()
    for i in range(3):
        r = session.post(front.base + "/webhooks/rest/webhook", verify=front.ca, timeout=60,
                         json={"sender": f"nginx-keepalive-{i}", "message": "你好"})
        assert r.status_code == 200
    workers = psutil.Process(front.proc.pid).children()
    port = upstream_port(assistant)
    kept = [c for w in workers for c in w.connections(kind="tcp")
            if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED]
    assert kept, "nginx closed its connections to the assistant after the requests"


@pytest.mark.e2e
def test_only_the_public_paths_are_proxied(front):
    assert front.get("/").status_code == 404  # Rasa's version page
    assert front.get("/status").status_code == 404
    assert front.get("/conversations/nginx-https-1/tracker").status_code == 404
    assert front.get("/webhooks/health/").status_code == 404
    # The channels are.
    assert front.get("/webhooks/rest/").status_code == 200


@pytest.mark.e2e
def test_request_size_is_limited(front):
    r = front.post("/webhooks/rest/webhook", data=b"x" * (200 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.mark.e2e
def test_plain_http_redirects_to_https(front):
    r = requests.get(f"http://{LOOPBACK}:{front.http_port}/webhooks/widget/widget.js", allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"].startswith("https://")


def nginx_refused(r: requests.Response) -> bool:
    return r.status_code == 403 and "<center>nginx</center>" in r.text


@pytest.mark.e2e
def test_staff_console_from_an_allowed_network_reaches_the_assistant(front):
    r = front.get("/staff/")  # 127.0.0.1 is in the shipped allow-list
    assert not nginx_refused(r), r.text
    assert r.status_code in (200, 302, 404)  # the assistant's answer (404 while it has no staff accounts)


@pytest.mark.e2e
def test_staff_console_is_refused_from_other_networks(nginx_binary, assistant, tmp_path):
    # The office network only: this client (127.0.0.1) is outside it, as a visitor on the internet is.
    allow = re.sub(r"^allow .*\n", "", STAFF_ALLOW.read_text(), flags=re.M).replace("deny all;", "allow 10.20.0.0/16;\ndeny all;")
    with FrontEnd(nginx_binary, tmp_path, upstream_port(assistant), allow) as f:
        assert nginx_refused(f.get("/staff/"))
        assert nginx_refused(f.get("/staff/api/conversations"))
        assert f.post("/webhooks/rest/webhook", json={"sender": "nginx-https-2", "message": "你好"}).status_code == 200
