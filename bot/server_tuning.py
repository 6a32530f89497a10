"""Costs of the stock Rasa server that the assistant does not need to pay.

Imported by the Rasa server process when it loads the channels (bot/channels/__init__.py).

* Rasa checks every action-server reply with ``jsonschema.validate``, which first re-checks the
  large, constant schema itself: a third of the server's CPU per message under load. The
  validator is built and its schema checked once; each reply is still validated in full.
* Each turn commits to the SQLite tracker store and, in SQLite's default rollback-journal mode,
  waits for the disk while the event loop is blocked. Write-ahead logging with
  ``synchronous=NORMAL`` keeps every committed turn across a crash of the process (only an
  operating-system crash or power loss may lose the last turns) and commits far faster.
  PostgreSQL, the production store, is not affected.
* To load DIET, stock Rasa traces and runs one training step on one example (to create the
  weights with the right shapes) before it reads the trained weights: over 20 s of the start-up
  on two cores, and a training graph and optimiser state kept in memory for nothing. For serving,
  the trained weights are restored as the prediction graph creates its variables; every variable
  the prediction uses must be found in the trained checkpoint, or loading fails. The predictions
  are the same to the last digit (tests/test_server_tuning.py compares both ways of loading).
  Fine-tuning and models without a prediction example still load the stock way.
* Rasa opens a new HTTP connection to the action server for every action call (a new aiohttp
  session each time) and closes it after. Each endpoint keeps one session per event loop
  instead, so calls reuse kept-alive connections; an idle connection is dropped after 2 s, well
  before the action server's own 5 s keep-alive ends, so a call never lands on a connection the
  server is closing.
* With several Sanic workers (SANIC_WORKERS > 1), each worker is forked from the main process and
  loads the model itself. The knowledge base, its search index, jieba's dictionary and the
  entity matcher only read once built, so they are built once in the main process before the
  fork and shared by the workers (copy-on-write; ``gc.freeze`` keeps the collector from touching,
  and so copying, them) instead of one copy per worker. Each worker also ignores Ctrl-C and
  ends on SIGTERM while it loads the model (see ``_worker_signals_until_started``).
"""
from __future__ import annotations

import os
import threading
from typing import Any, Dict

_lock = threading.Lock()
_applied = False
# What was replaced, for the tests that compare both ways.
STOCK: Dict[str, Any] = {}


def compile_action_validation() -> None:
    """Rasa's RemoteAction validates replies with a validator built once (same checks)."""
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    holder: Dict[str, Any] = {}

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        validator = holder.get("validator")
        if validator is None:
            spec = self.action_response_format_spec()
            cls = validators.validator_for(spec)
            cls.check_schema(spec)
            validator = holder["validator"] = cls(spec)
        try:
            validator.validate(result)
        except ValidationError:
            return original(self, result)  # the original raises with Rasa's own message
        return True

    RemoteAction._validate_action_result = _validate_action_result


def restore_diet_weights_for_serving() -> None:
    """RasaModel.load without the one-step training run (see the module docstring)."""
    from rasa.utils.tensorflow.models import RasaModel

    stock_load = STOCK["diet_load"] = RasaModel.load.__func__

    def load(cls, model_file_name, model_data_example, predict_data_example=None,
             finetune_mode: bool = False, *args: Any, **kwargs: Any):
        if finetune_mode or predict_data_example is None:
            return stock_load(cls, model_file_name, model_data_example, predict_data_example,
                              finetune_mode, *args, **kwargs)
        model = cls(*args, **kwargs)
        # A TensorFlow checkpoint restores each variable when it is created; the training-only
        # values (optimiser slots) are left unused.
        status = model.load_weights(model_file_name)
        model.run_inference(predict_data_example)  # creates (and so restores) the variables
        status.assert_existing_objects_matched()
        status.expect_partial()  # the optimiser's slots are not needed for serving
        return model

    RasaModel.load = classmethod(load)


KEEPALIVE_S = 2.0


class _KeptSession:
    """``async with`` yields the endpoint's long-lived session and leaves it open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def reuse_action_connections() -> None:
    """EndpointConfig.session: one aiohttp session per endpoint and event loop (see above)."""
    import asyncio
    import weakref

    import aiohttp
    from rasa.utils import endpoints

    stock_session = STOCK["endpoint_session"] = endpoints.EndpointConfig.session
    sessions: "weakref.WeakKeyDictionary[Any, Dict[int, Any]]" = weakref.WeakKeyDictionary()

    def session(self):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return stock_session(self)
        per_loop = sessions.setdefault(loop, {})
        key = (self.url, repr(sorted((self.headers or {}).items())), repr(self.basic_auth))
        kept = per_loop.get(key)
        if kept is None or kept.closed:
            auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                    if self.basic_auth else None)
            kept = per_loop[key] = aiohttp.ClientSession(
                headers=self.headers, auth=auth,
                timeout=aiohttp.ClientTimeout(total=endpoints.DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
            )
        return _KeptSession(kept)

    endpoints.EndpointConfig.session = session


def action_call_timeout() -> float:
    """ACTION_CALL_TIMEOUT (default 20 s), at most a third of the conversation lock's lifetime."""
    from rasa.core.lock_store import LOCK_LIFETIME

    raw = os.environ.get("ACTION_CALL_TIMEOUT", "").strip()
    try:
        wanted = float(raw) if raw else 20.0
    except ValueError:
        wanted = 20.0
    if wanted <= 0:
        wanted = 20.0
    return min(wanted, LOCK_LIFETIME / 3)


def bound_action_calls() -> None:
    from rasa.core.actions import action

    STOCK["action_timeout"] = action.DEFAULT_REQUEST_TIMEOUT
    action.DEFAULT_REQUEST_TIMEOUT = action_call_timeout()  # read by RemoteAction.run per call


def no_silent_tracker_store_fallback() -> None:
    """The project's tracker store is not wrapped in Rasa's FailSafeTrackerStore, and a turn
    whose save failed ends with `NOT_SAVED` after its answer."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor

    from bot.stores import NOT_SAVED, ConversationNotSaved, SQLTrackerStore

    stock_create = Agent._create_tracker_store
    STOCK["create_tracker_store"] = stock_create

    def _create_tracker_store(store, domain):
        if isinstance(store, SQLTrackerStore):
            store.domain = domain
            return store
        return stock_create(store, domain)

    Agent._create_tracker_store = staticmethod(_create_tracker_store)

    stock_handle = STOCK["handle_message"] = MessageProcessor.handle_message

    async def handle_message(self, message):
        try:
            return await stock_handle(self, message)
        except ConversationNotSaved:
            # Logged by the store. The answer was given; the person learns it was not kept.
            await message.output_channel.send_text_message(message.sender_id, NOT_SAVED)
            if isinstance(message.output_channel, CollectingOutputChannel):
                return message.output_channel.messages
            return None

    MessageProcessor.handle_message = handle_message


def _sqlite_write_ahead_log() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # pragma: no branch - only SQLite
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()


def _worker_signals_until_started() -> None:
    """In a freshly forked worker: stop on SIGTERM at once and leave Ctrl-C to the main process.

    Sanic's main process installs its own SIGINT/SIGTERM handlers before it forks, and a worker
    keeps them until its server has started, i.e. while it loads the model. A stop signal in
    that window ran the main process's handler inside the worker (which broke the model load
    and left the worker running without a model). Until Sanic installs the worker's own handlers
    after start-up, a worker now ignores SIGINT (as it does afterwards) and ends on SIGTERM."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def preload_shared_data() -> bool:
    """Builds the read-only knowledge data before Sanic forks its workers (see above)."""
    from bot.shared_state import sanic_workers

    if sanic_workers() <= 1:
        return False
    import gc

    import jieba

    from bot.components.kb_entities import KBMatcher
    from policy_kb import get_kb

    jieba.initialize()
    get_kb().warm()
    KBMatcher.shared()
    gc.collect()
    gc.freeze()
    os.register_at_fork(after_in_child=_worker_signals_until_started)
    return True


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        compile_action_validation()
        restore_diet_weights_for_serving()
        reuse_action_connections()
        bound_action_calls()
        no_silent_tracker_store_fallback()
        _sqlite_write_ahead_log()
        preload_shared_data()
        _applied = True
