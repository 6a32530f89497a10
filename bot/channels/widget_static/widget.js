/*
 * 政策问答助手 web widget (浙人社发〔2021〕22号).
 *
 * Embed with one tag:
 *   <script src="https://ASSISTANT/webhooks/widget/widget.js" defer
 *           data-title="政策问答助手" data-greeting="您好……"></script>
 *
 * Options (data- attributes of the script tag):
 *   data-server    base URL of the assistant (default: where widget.js was loaded from)
 *   data-title     panel title
 *   data-greeting  first message shown in a new conversation (shown locally, not sent)
 *   data-placeholder  input placeholder
 *   data-open      "true" to open the panel when the page loads
 *
 * Every text that comes from the server is put in the page with textContent, never as markup.
 */
(function () {
  "use strict";

  var script = document.currentScript ||
    document.querySelector('script[src*="/webhooks/widget/widget.js"]');
  if (!script || window.__shanqu26Widget) { return; }
  window.__shanqu26Widget = true;

  var ds = script.dataset || {};
  var base = ds.server
    ? ds.server.replace(/\/+$/, "") + "/webhooks/widget/"
    : new URL("./", script.src).href;
  var cfg = {
    title: ds.title || "政策问答助手",
    greeting: ds.greeting || "您好！我可以解答浙人社发〔2021〕22号（山区26县人力社保支撑）相关问题，例如：“开化县是山区县吗”“创业担保贷款有什么优惠”。",
    placeholder: ds.placeholder || "请输入您的问题",
    open: ds.open === "true",
    timeoutMs: 60000
  };
  var STORE_KEY = "shanqu26-widget:" + base;
  var OPEN_KEY = STORE_KEY + ":open";

  var VERDICTS = {
    eligible: { label: "符合", cls: "ok" },
    not_eligible: { label: "不符合", cls: "no" },
    need_info: { label: "尚需信息", cls: "info" }
  };

  // ---------------------------------------------------------------- small helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) { return; }
        if (k === "text") { node.textContent = String(v); }
        else if (k === "className") { node.className = v; }
        else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), v); }
        else { node.setAttribute(k, v === true ? "" : String(v)); }
      });
    }
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function storage(kind) {
    try { var s = window[kind]; s.setItem("__t", "1"); s.removeItem("__t"); return s; }
    catch (e) { return null; }
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");

  // The conversation's id is a session the server issues and signs (POST session), kept in
  // localStorage so that the conversation survives a reload; the server refuses any other id.
  var SESSION_RE = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/;

  function storedSession() {
    var id = local && local.getItem(STORE_KEY);
    return id && SESSION_RE.test(id) ? id : null;
  }

  function ensureSession() {
    if (state.sender) { return Promise.resolve(state.sender); }
    return request("POST", "session", {}).then(function (r) {
      if (!r.ok || !r.data || !SESSION_RE.test(String(r.data.session))) {
        throw new Error("session " + r.status);
      }
      state.sender = r.data.session;
      if (local) { local.setItem(STORE_KEY, state.sender); }
      return state.sender;
    });
  }

  function request(method, path, body) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, cfg.timeoutMs) : null;
    var opts = { method: method, headers: {}, signal: ctrl ? ctrl.signal : undefined };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(base + path, opts).then(function (resp) {
      if (timer) { clearTimeout(timer); }
      return resp.json().catch(function () { return null; }).then(function (data) {
        return { status: resp.status, ok: resp.ok, data: data };
      });
    }, function (err) {
      if (timer) { clearTimeout(timer); }
      throw err;
    });
  }

  // Quoted clauses that a citation card shows are left out of the bubble's text.
  function textWithoutQuotes(text, custom) {
    var cites = (custom && Array.isArray(custom.citations)) ? custom.citations : [];
    var shown = {};
    cites.forEach(function (c) { if (c && c.location) { shown[c.location] = true; } });
    if (!Object.keys(shown).length) { return text; }
    var lines = String(text).split("\n");
    var out = [];
    for (var i = 0; i < lines.length; i++) {
      var m = /^【原文】(.+)$/.exec(lines[i]);
      if (m && shown[m[1].trim()]) {
        // skip the location line and the quoted clause (up to its closing quote)
        var j = i + 1;
        while (j < lines.length && lines[j].indexOf("”") === -1) { j++; }
        i = j;
        continue;
      }
      out.push(lines[i]);
    }
    return out.join("\n").replace(/\n{3,}/g, "\n\n").trim();
  }

  // ---------------------------------------------------------------- the widget

  var state = {
    sender: null,
    loaded: false,
    busy: false,
    lastTyped: null,
    // Questions typed while the history loads or an answer is awaited: sent in order after it.
    queued: []
  };

  var root, launcher, panel, log, form, input, sendBtn, typing, statusBox;
  var css = el("link", { rel: "stylesheet", href: base + "widget.css" });
  document.head.appendChild(css);

  function build() {
    root = el("div", { className: "sq-widget", lang: "zh-CN" });
    launcher = el("button", {
      type: "button", className: "sq-launcher", "aria-haspopup": "dialog",
      "aria-expanded": "false", "aria-controls": "sq-panel", "aria-label": "打开" + cfg.title,
      onclick: function () { toggle(); }
    }, [el("span", { className: "sq-launcher-icon", "aria-hidden": "true", text: "💬" }),
        el("span", { className: "sq-launcher-label", text: "政策咨询" })]);

    var titleId = "sq-title";
    var header = el("div", { className: "sq-header" }, [
      el("h2", { id: titleId, className: "sq-title", text: cfg.title }),
      el("button", { type: "button", className: "sq-icon-btn sq-new", "aria-label": "开始新对话",
                     title: "开始新对话", text: "新对话", onclick: function () { restart(); } }),
      el("button", { type: "button", className: "sq-icon-btn sq-close", "aria-label": "关闭对话窗口",
                     title: "关闭", text: "✕", onclick: function () { toggle(false); } })
    ]);
    log = el("div", { className: "sq-log", role: "log", "aria-live": "polite",
                      "aria-relevant": "additions", "aria-label": "对话记录", tabindex: "0" });
    typing = el("div", { className: "sq-typing", role: "status", hidden: true },
      [el("span", { className: "sq-visually-hidden", text: "助手正在输入" }),
       el("span", { className: "sq-dot", "aria-hidden": "true" }),
       el("span", { className: "sq-dot", "aria-hidden": "true" }),
       el("span", { className: "sq-dot", "aria-hidden": "true" })]);
    statusBox = el("div", { className: "sq-status", role: "alert" });
    input = el("textarea", { className: "sq-input", id: "sq-input", rows: "1",
                             placeholder: cfg.placeholder, maxlength: "500",
                             "aria-label": "输入您的问题" });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        submitTyped();
      }
    });
    sendBtn = el("button", { type: "submit", className: "sq-send", text: "发送" });
    form = el("form", { className: "sq-form", "aria-label": "提问",
                        onsubmit: function (ev) { ev.preventDefault(); submitTyped(); } },
      [el("label", { className: "sq-visually-hidden", "for": "sq-input", text: "输入您的问题" }),
       input, sendBtn]);
    var note = el("p", { className: "sq-note",
      text: "回答依据文件原文，仅供参考，具体以当地人力社保部门答复为准。" });

    panel = el("section", { id: "sq-panel", className: "sq-panel", role: "dialog",
                            "aria-labelledby": titleId, hidden: true },
      [header, log, typing, statusBox, form, note]);
    panel.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { ev.stopPropagation(); toggle(false); }
    });
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);
  }

  function isOpen() { return !panel.hidden; }

  function toggle(open) {
    if (open === undefined) { open = !isOpen(); }
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.setAttribute("aria-label", (open ? "关闭" : "打开") + cfg.title);
    root.classList.toggle("sq-open", open);
    if (session) { session.setItem(OPEN_KEY, open ? "1" : "0"); }
    if (open) {
      if (!state.loaded) { loadHistory(); }
      input.focus();
      scrollDown();
    } else {
      launcher.focus();
    }
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function setBusy(busy) {
    state.busy = busy;
    typing.hidden = !busy;
    sendBtn.disabled = busy;
    log.setAttribute("aria-busy", busy ? "true" : "false");
    if (busy) { scrollDown(); }
  }

  function clearStatus() { statusBox.textContent = ""; statusBox.classList.remove("sq-shown"); }

  function showError(message, retry) {
    clearStatus();
    statusBox.appendChild(el("span", { text: message }));
    if (retry) {
      var btn = el("button", { type: "button", className: "sq-retry", text: "重试",
                               onclick: function () { clearStatus(); retry(); } });
      statusBox.appendChild(btn);
    }
    statusBox.classList.add("sq-shown");
    var focusTarget = statusBox.querySelector("button");
    if (focusTarget) { focusTarget.focus(); }
  }

  // ---- rendering ----------------------------------------------------------------

  function addUser(text) {
    var item = el("div", { className: "sq-msg sq-user" }, [
      el("span", { className: "sq-visually-hidden", text: "我说：" }),
      el("div", { className: "sq-bubble", text: text })
    ]);
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function addGreeting() {
    log.appendChild(el("div", { className: "sq-msg sq-bot sq-greeting" }, [
      el("div", { className: "sq-bubble", text: cfg.greeting })
    ]));
  }

  function disableOldButtons() {
    Array.prototype.forEach.call(log.querySelectorAll(".sq-quick button"), function (b) {
      b.disabled = true;
    });
  }

  function renderCitations(citations) {
    var wrap = el("div", { className: "sq-citations" });
    wrap.appendChild(el("p", { className: "sq-section-label", text: "引用条款" }));
    citations.forEach(function (c) {
      if (!c || typeof c !== "object") { return; }
      var title = c.title ? String(c.title) : String(c.clause_id || "条款");
      var summary = el("summary", { className: "sq-cite-summary" }, [
        el("span", { className: "sq-cite-title", text: title }),
        c.location ? el("span", { className: "sq-cite-loc", text: String(c.location) }) : null
      ]);
      var body = el("blockquote", { className: "sq-cite-text", text: String(c.text || "") });
      var src = el("p", { className: "sq-cite-src",
        text: "出处：浙人社发〔2021〕22号" + (c.location ? " " + c.location : "") });
      wrap.appendChild(el("details", { className: "sq-cite" }, [summary, body, src]));
    });
    return wrap;
  }

  function renderEligibility(e) {
    var v = VERDICTS[e.verdict] || { label: String(e.verdict || "未知"), cls: "info" };
    var box = el("div", { className: "sq-eligibility" }, [
      el("span", { className: "sq-section-label", text: "资格判断" }),
      el("span", { className: "sq-badge sq-badge-" + v.cls, text: v.label })
    ]);
    // The conditions met, unmet or still missing are spelled out in the answer's text.
    return box;
  }

  function renderUnits(units) {
    var list = el("ul", { className: "sq-units-list" });
    units.forEach(function (u) {
      if (!u) { return; }
      var name = String(u.name || u.full_name || "");
      var li = el("li", { className: "sq-unit", text: name });
      if (u.full_name && u.full_name !== u.name) { li.setAttribute("title", String(u.full_name)); }
      list.appendChild(li);
    });
    return el("div", { className: "sq-units" }, [
      el("span", { className: "sq-section-label", text: "责任单位" }), list]);
  }

  function renderCounty(c) {
    var yes = c.is_mountain_county === true;
    var name = String(c.name || "");
    var city = c.city && c.city !== c.name ? "（" + String(c.city) + "）" : "";
    return el("div", { className: "sq-county" }, [
      el("span", { className: "sq-section-label", text: "地区" }),
      el("span", { className: "sq-county-name", text: name + city }),
      el("span", { className: "sq-badge " + (yes ? "sq-badge-ok" : "sq-badge-no"),
                   text: yes ? "属于山区26县" : "不属于山区26县" })
    ]);
  }

  function renderRating(msg, bubbleWrap) {
    var bar = el("div", { className: "sq-rating", role: "group", "aria-label": "评价这条回答" });
    var label = el("span", { className: "sq-rating-label", text: "这条回答有帮助吗？" });
    var up = el("button", { type: "button", className: "sq-rate sq-rate-up", "aria-label": "有帮助",
                            "aria-pressed": "false", title: "有帮助" },
                  [el("span", { "aria-hidden": "true", text: "👍" }), el("span", { text: " 有用" })]);
    var down = el("button", { type: "button", className: "sq-rate sq-rate-down",
                              "aria-label": "没有帮助", "aria-pressed": "false",
                              title: "没有帮助" },
                    [el("span", { "aria-hidden": "true", text: "👎" }), el("span", { text: " 没用" })]);
    var thanks = el("span", { className: "sq-rating-thanks", role: "status" });
    bar.appendChild(label); bar.appendChild(up); bar.appendChild(down); bar.appendChild(thanks);

    function mark(helpful) {
      up.setAttribute("aria-pressed", helpful === true ? "true" : "false");
      down.setAttribute("aria-pressed", helpful === false ? "true" : "false");
    }

    function send(helpful, comment) {
      var body = { sender: state.sender, helpful: helpful };
      if (typeof msg.timestamp === "number") { body.timestamp = msg.timestamp; }
      else { body.message_index = msg.message_index; }
      if (comment) { body.comment = comment; }
      return request("POST", "rating", body).then(function (r) {
        if (!r.ok) { throw new Error("rating " + r.status); }
        return r;
      });
    }

    function commentForm(helpful) {
      var old = bubbleWrap.querySelector(".sq-comment");
      if (old) { old.remove(); }
      var fieldId = "sq-c-" + Math.random().toString(36).slice(2);
      var area = el("textarea", { id: fieldId, className: "sq-comment-input", rows: "2",
                                  maxlength: "500", placeholder: "选填：告诉我们哪里可以改进" });
      var f = el("form", { className: "sq-comment" }, [
        el("label", { "for": fieldId, className: "sq-comment-label", text: "补充意见（选填）" }),
        area,
        el("button", { type: "submit", className: "sq-comment-send", text: "提交意见" })
      ]);
      f.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var text = area.value.trim();
        if (!text) { f.remove(); return; }
        send(helpful, text).then(function () {
          f.remove();
          thanks.textContent = "已收到您的意见，谢谢！";
        }, function () {
          thanks.textContent = "意见提交失败，请稍后再试。";
        });
      });
      bubbleWrap.appendChild(f);
    }

    function rate(helpful) {
      mark(helpful);
      send(helpful).then(function () {
        thanks.textContent = "感谢您的评价！";
        commentForm(helpful);
      }, function () {
        mark(null);
        thanks.textContent = "评价提交失败，请稍后再试。";
      });
    }
    up.addEventListener("click", function () { rate(true); });
    down.addEventListener("click", function () { rate(false); });

    if (msg.rating && typeof msg.rating.helpful === "boolean") {
      mark(msg.rating.helpful);
      thanks.textContent = "已评价";
    }
    return bar;
  }

  function addBot(msg, opts) {
    opts = opts || {};
    var custom = (msg.custom && typeof msg.custom === "object") ? msg.custom : {};
    var wrap = el("div", { className: "sq-msg sq-bot" });
    wrap.appendChild(el("span", { className: "sq-visually-hidden", text: "助手回答：" }));
    var bubble = el("div", { className: "sq-bubble" });
    if (msg.text) {
      bubble.appendChild(el("div", { className: "sq-text", text: textWithoutQuotes(msg.text, custom) }));
    }
    if (custom.county && typeof custom.county === "object") { bubble.appendChild(renderCounty(custom.county)); }
    if (custom.eligibility && typeof custom.eligibility === "object") {
      bubble.appendChild(renderEligibility(custom.eligibility));
    }
    if (Array.isArray(custom.responsible_units) && custom.responsible_units.length) {
      bubble.appendChild(renderUnits(custom.responsible_units));
    }
    if (Array.isArray(custom.citations) && custom.citations.length) {
      bubble.appendChild(renderCitations(custom.citations));
    }
    if (custom.out_of_scope === true) { wrap.classList.add("sq-out-of-scope"); }
    wrap.appendChild(bubble);

    var buttons = Array.isArray(msg.buttons) ? msg.buttons : [];
    if (buttons.length) {
      var group = el("div", { className: "sq-quick", role: "group", "aria-label": "快捷回复" });
      buttons.forEach(function (b) {
        if (!b) { return; }
        var title = String(b.title || b.payload || "");
        var payload = String(b.payload || b.title || "");
        group.appendChild(el("button", {
          type: "button", className: "sq-quick-btn", text: title, disabled: !!opts.stale,
          onclick: function () { sendMessage(payload, title); }
        }));
      });
      wrap.appendChild(group);
    }
    if (typeof msg.timestamp === "number" || typeof msg.message_index === "number") {
      wrap.appendChild(renderRating(msg, wrap));
    }
    log.appendChild(wrap);
    scrollDown();
    return wrap;
  }

  // Rasa sends the text (with buttons) and the JSON payload of one answer as two messages;
  // put them back together (by bot-event timestamp when the server gives one).
  function mergeMessages(messages) {
    var out = [];
    (Array.isArray(messages) ? messages : []).forEach(function (m) {
      if (!m || typeof m !== "object") { return; }
      var prev = out[out.length - 1];
      var same = prev && typeof m.timestamp === "number" && prev.timestamp === m.timestamp;
      var customOnly = prev && !m.text && m.custom && !prev.custom && m.timestamp === undefined;
      if (same || customOnly) {
        if (m.text) { prev.text = prev.text ? prev.text + "\n" + m.text : m.text; }
        if (m.buttons) { prev.buttons = (prev.buttons || []).concat(m.buttons); }
        if (m.custom) { prev.custom = m.custom; }
      } else {
        out.push({ text: m.text, buttons: m.buttons, custom: m.custom, timestamp: m.timestamp,
                   message_index: m.message_index, rating: m.rating });
      }
    });
    return out;
  }

  // ---- conversation -------------------------------------------------------------

  function sendQueued() {
    if (!state.busy && state.queued.length) {
      var next = state.queued.shift();
      sendMessage(next, next);
    }
  }

  function loadHistory() {
    state.loaded = true;
    state.sender = storedSession();
    setBusy(true);
    var load = state.sender
      ? request("GET", "history?sender=" + encodeURIComponent(state.sender))
      : Promise.resolve({ ok: false, status: 404, data: null });  // a new conversation
    load.then(function (r) {
      setBusy(false);
      log.textContent = "";
      addGreeting();
      if (r.ok && r.data && Array.isArray(r.data.messages)) {
        var items = r.data.messages;
        var lastUser = -1;
        items.forEach(function (m, i) { if (m.role === "user") { lastUser = i; } });
        items.forEach(function (m, i) {
          if (m.role === "user") { addUser(String(m.text || "")); }
          else if (m.role === "bot") { addBot(m, { stale: i < lastUser }); }
        });
      } else if (r.status === 403) {
        state.sender = null;  // not this server's session (any more): a new one comes with the next question
      } else if (r.status !== 404) {
        showError("暂时无法读取之前的对话记录。", function () { loadHistory(); });
      }
      scrollDown();
      sendQueued();
    }, function () {
      setBusy(false);
      state.loaded = false;
      if (!log.querySelector(".sq-greeting")) { addGreeting(); }
      showError("无法连接到服务器，请检查网络后重试。", function () { loadHistory(); });
      sendQueued();
    });
  }

  function restart() {
    if (state.busy) { return; }
    state.sender = null;  // a new session is asked for with the first question
    state.queued = [];
    if (local) { local.removeItem(STORE_KEY); }
    log.textContent = "";
    clearStatus();
    addGreeting();
    input.focus();
  }

  function submitTyped() {
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    if (state.busy) {  // not lost: sent when the history or the pending answer has arrived
      state.queued.push(text);
      return;
    }
    sendMessage(text, text);
  }

  function sendMessage(payload, shown, isRetry, renewed) {
    if (state.busy) { return; }
    clearStatus();
    if (!isRetry) {
      disableOldButtons();
      addUser(shown);
    }
    setBusy(true);
    ensureSession().then(function (id) {
      return request("POST", "webhook", { sender: id, message: payload });
    }).then(function (r) {
      setBusy(false);
      if (r.ok) {
        var msgs = mergeMessages(r.data);
        if (!msgs.length) {
          addBot({ text: "（助手没有给出回答，请换个说法再试。）" });
        }
        msgs.forEach(function (m) { addBot(m); });
        input.focus();
        sendQueued();
      } else if (r.status === 403 && !renewed) {
        state.sender = null;  // the session is not (or no longer) this server's: ask for a new one
        sendMessage(payload, shown, true, true);
      } else if (r.status === 429) {
        showError("提问过于频繁，请稍等片刻再试。", function () { sendMessage(payload, shown, true); });
      } else if (r.status === 400 || r.status === 413) {
        showError("消息无法发送：内容为空或过长（最多500字）。");
      } else {
        showError("服务暂时无法回答，请稍后重试。", function () { sendMessage(payload, shown, true); });
      }
    }, function () {
      setBusy(false);
      showError("无法连接到服务器，请检查网络后重试。", function () { sendMessage(payload, shown, true); });
    });
  }

  function start() {
    build();
    if (cfg.open || (session && session.getItem(OPEN_KEY) === "1")) { toggle(true); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
