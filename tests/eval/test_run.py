"""eval.run against a small stand-in server: conversations asked at once give the same results."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eval.run import run_assistant


class _Echo(BaseHTTPRequestHandler):
    """Answers each turn with how many turns its sender has sent and what the last one said; a
    sender's turns must come in order, one at a time, or the reply says so."""

    seen: dict = {}
    busy: set = set()
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (the standard library's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        sender = body["sender"]
        with self.lock:
            overlap = sender in self.busy
            self.busy.add(sender)
            self.seen[sender] = self.seen.get(sender, 0) + 1
            n = self.seen[sender]
        time.sleep(0.01)  # long enough for conversations to overlap
        with self.lock:
            self.busy.discard(sender)
        text = ("OVERLAP " if overlap else "") + f"turn {n}: {body['message']}"
        out = json.dumps([{"recipient_id": sender, "text": text}]).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook"
    server.shutdown()


def _cases():
    cases = []
    for i in range(40):
        turns = [f"q{i}-{j}" for j in range(1 + i % 3)]
        # every third case expects what its last answer cannot say, so some fail
        want = "never said" if i % 3 == 0 else f"turn {len(turns)}: {turns[-1]}"
        cases.append({"id": f"c{i:02d}", "cat": "multi" if i % 2 else "context", "turns": turns,
                      "expect": {"text_any": [want], "text_none": ["OVERLAP"]}})
    return cases


def test_conversations_at_once_give_the_same_results_in_order(url):
    cases = _cases()
    one_seen, four_seen = [], []
    one = run_assistant(url, cases, on_answer=lambda c, m: one_seen.append((c["id"], m[0]["text"])))
    four = run_assistant(url, cases, on_answer=lambda c, m: four_seen.append((c["id"], m[0]["text"])),
                         workers=4)
    assert sorted(one["fails"]) == sorted(four["fails"]) == [c["id"] for c in cases if c["id"] in one["fails"]]
    assert set(one["fails"]) == {f"c{i:02d}" for i in range(0, 40, 3)}
    assert one["by_category"] == four["by_category"] and four["passed"] == 40 - 14
    # every turn of every case is seen, in the cases' order and each case's turns in order
    assert [cid for cid, _ in four_seen] == [cid for cid, _ in one_seen]
    assert all(not text.startswith("OVERLAP") for _, text in four_seen)
    assert len(four_seen) == sum(len(c["turns"]) for c in cases)
