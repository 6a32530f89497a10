/*
 * 政策问答助手 web widget ({{document_number}}; filled in when served, bot/channels/widget.py).
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
 * Icons are inline SVG (emoji show as empty boxes where no colour-emoji font is installed).
 * While a message left for staff (留言) awaits its answer, the history is read again every few
 * seconds (for at most POLL_FOR_MS), so that the staff reply shows up in the open page.
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
    greeting: ds.greeting || "您好！我可以解答{{document_number}}（山区26县人力社保支撑）相关问题，例如：“开化县是山区县吗”“创业担保贷款有什么优惠”。",
    placeholder: ds.placeholder || "请输入您的问题",
    open: ds.open === "true",
    timeoutMs: 60000
  };
  var STORE_KEY = "shanqu26-widget:" + base;
  var OPEN_KEY = STORE_KEY + ":open";

  // The badge shows the payload's eligibility.label, each label in its own colour; a payload
  // stored before labels existed has only the verdict.
  var LABEL_CLASSES = { "符合条件": "ok", "可能适用": "maybe", "不符合": "no", "尚需信息": "info" };
  var VERDICT_LABELS = { eligible: "符合条件", not_eligible: "不符合", need_info: "尚需信息" };
  // What a 👎 can say was wrong (bot/channels/widget.py, RATING_REASONS).
  var REASONS = ["回答错误", "没回答我的问题", "太长看不懂", "其他"];
  // A staff reply to a message left (留言) is looked for this often, for at most this long.
  var POLL_MS = 5000;
  var POLL_FOR_MS = 10 * 60 * 1000;

  // Stroke icons on a 24-unit grid (after Feather Icons, MIT).
  var ICONS = {
    chat: "M21 11.5a8.38 8.38 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.38 8.38 0 0 1-3.8-.9L3 21" +
          "l1.9-5.7a8.38 8.38 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.38 8.38 0 0 1 3.8-.9h.5" +
          "a8.48 8.48 0 0 1 8 8v.5z",
    up: "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3z" +
        "M7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3",
    down: "M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3z" +
          "M17 2h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17",
    close: "M18 6L6 18M6 6l12 12",
    chevron: "M9 18l6-6-6-6"
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

  function icon(name, cls) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("fill", "none");
    svg.setAttribute("stroke", "currentColor");
    svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round");
    svg.setAttribute("stroke-linejoin", "round");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "sq-svg" + (cls ? " " + cls : ""));
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
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

  // An answer quotes its clause once in its text: "【原文】<location>" then "“<passage>”". The
  // citation cards come from the payload (location, text); a block that one of them holds is
  // taken out of the bubble and shown in that card, so that nothing is shown twice. A block no
  // citation holds stays in the text as written.
  function citationFor(citations, location, passage) {
    for (var k = 0; k < citations.length; k++) {
      var c = citations[k];
      if (c && typeof c === "object" && String(c.location || "") === location &&
          String(c.text || "").indexOf(passage) !== -1) { return k; }
    }
    return -1;
  }

  function splitQuotes(text, citations) {
    var lines = String(text || "").split("\n");
    var out = [];
    var quoted = {};
    for (var i = 0; i < lines.length; i++) {
      var m = /^【原文】(.+)$/.exec(lines[i]);
      var found = -1;
      if (m && i + 1 < lines.length && lines[i + 1].charAt(0) === "“") {
        for (var j = i + 1; j < lines.length && found < 0; j++) {
          if (lines[j].slice(-1) !== "”") { continue; }
          var passage = lines.slice(i + 1, j + 1).join("\n").slice(1, -1);
          var k = citationFor(citations, m[1].trim(), passage);
          if (k >= 0) {
            quoted[k] = quoted[k] || [];
            quoted[k].push(passage);
            found = j;
          }
        }
      }
      if (found >= 0) { i = found; continue; }
      out.push(lines[i]);
    }
    return { text: out.join("\n").replace(/\n{3,}/g, "\n\n").trim(), quoted: quoted };
  }

  // ---------------------------------------------------------------- the widget

  var state = {
    sender: null,
    loaded: false,
    busy: false,
    lastTyped: null,
    // Questions typed while the history loads or an answer is awaited: sent in order after it.
    queued: [],
    // The bot messages shown, in order, and their timestamps (a staff reply is shown once).
    bots: [],
    seen: {},
    latest: null,
    // While a message left for staff awaits its answer: {ticket, until, timer}.
    poll: null
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
    }, [icon("chat", "sq-launcher-icon"),
        el("span", { className: "sq-launcher-label", text: "政策咨询" }),
        el("span", { className: "sq-unread", text: "有新回复" })]);

    var titleId = "sq-title";
    var header = el("div", { className: "sq-header" }, [
      el("h2", { id: titleId, className: "sq-title", text: cfg.title }),
      el("button", { type: "button", className: "sq-icon-btn sq-new", "aria-label": "开始新对话",
                     title: "开始新对话", text: "新对话", onclick: function () { restart(); } }),
      el("button", { type: "button", className: "sq-icon-btn sq-close", "aria-label": "关闭对话窗口",
                     title: "关闭", onclick: function () { toggle(false); } }, [icon("close")])
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
      root.classList.remove("sq-has-unread");
      if (!state.loaded) { loadHistory(); } else { showLatest(); }
      input.focus({ preventScroll: true });
    } else {
      launcher.focus();
    }
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // A new answer is read from its first line: its start goes to the top of the log (a short one
  // that fits is then shown whole, under what came before it).
  function scrollToStart(node) {
    if (!node) { return; }
    state.latest = node;
    var offset = node.getBoundingClientRect().top - log.getBoundingClientRect().top;
    log.scrollTop = Math.max(0, log.scrollTop + offset - 8);
  }

  // Reopened: the latest answer from its start, as when it arrived.
  function showLatest() {
    scrollDown();
    if (state.latest && state.latest.parentNode === log) { scrollToStart(state.latest); }
  }

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

  // The passage with the part the answer quoted marked (text nodes only, never markup).
  function passageWithMarks(text, marks) {
    var body = el("blockquote", { className: "sq-cite-text" });
    var mark = (marks || []).filter(function (m) { return m && m !== text && text.indexOf(m) !== -1; })[0];
    if (!mark) { body.textContent = text; return body; }
    var at = text.indexOf(mark);
    body.appendChild(document.createTextNode(text.slice(0, at)));
    body.appendChild(el("mark", { className: "sq-cite-mark", text: mark }));
    body.appendChild(document.createTextNode(text.slice(at + mark.length)));
    return body;
  }

  // One card per citation, closed: its place in the document, its title and the first words of
  // the passage the answer rests on; opened (the chevron turns), the whole passage.
  function renderCitations(citations, quoted, open) {
    var wrap = el("div", { className: "sq-citations" });
    wrap.appendChild(el("p", { className: "sq-section-label", text: "文件原文" }));
    citations.forEach(function (c, k) {
      if (!c || typeof c !== "object") { return; }
      var text = String(c.text || "");
      var marks = quoted[k] || [];
      var title = c.title ? String(c.title) : String(c.clause_id || "条款");
      var summary = el("summary", { className: "sq-cite-summary" }, [
        icon("chevron", "sq-cite-marker"),
        el("span", { className: "sq-cite-head" }, [
          c.location ? el("span", { className: "sq-cite-loc", text: String(c.location) }) : null,
          el("span", { className: "sq-cite-title", text: title })
        ]),
        el("span", { className: "sq-cite-preview", "aria-hidden": "true", text: "“" + (marks[0] || text) + "”" })
      ]);
      var src = el("p", { className: "sq-cite-src",
        text: "出处：{{document_number}}" + (c.location ? " " + c.location : "") });
      var card = el("details", { className: "sq-cite" + (marks.length ? " sq-cite-quoted" : ""),
                                 open: !!open },
                    [summary, passageWithMarks(text, marks), src]);
      wrap.appendChild(card);
    });
    return wrap;
  }

  function renderEligibility(e) {
    var label = typeof e.label === "string" && e.label ? e.label
      : (VERDICT_LABELS[e.verdict] || String(e.verdict || "未知"));
    var cls = LABEL_CLASSES[label] || "info";
    var badge = el("span", { className: "sq-badge sq-badge-" + cls, text: label });
    if (e.decided_by) { badge.setAttribute("title", "是否给予由" + String(e.decided_by) + "决定"); }
    // The conditions met, unmet or still missing are spelled out in the answer's text.
    return el("div", { className: "sq-eligibility" }, [
      el("span", { className: "sq-section-label", text: "资格判断" }), badge]);
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
                  [icon("up"), el("span", { text: "有用" })]);
    var down = el("button", { type: "button", className: "sq-rate sq-rate-down",
                              "aria-label": "没有帮助", "aria-pressed": "false",
                              title: "没有帮助" },
                    [icon("down"), el("span", { text: "没用" })]);
    var thanks = el("span", { className: "sq-rating-thanks", role: "status" });
    bar.appendChild(label); bar.appendChild(up); bar.appendChild(down); bar.appendChild(thanks);

    function mark(helpful) {
      up.setAttribute("aria-pressed", helpful === true ? "true" : "false");
      down.setAttribute("aria-pressed", helpful === false ? "true" : "false");
    }

    function send(helpful, comment, reason) {
      var body = { sender: state.sender, helpful: helpful };
      if (typeof msg.timestamp === "number") { body.timestamp = msg.timestamp; }
      else { body.message_index = msg.message_index; }
      if (comment) { body.comment = comment; }
      if (reason) { body.reason = reason; }
      return request("POST", "rating", body).then(function (r) {
        if (!r.ok) { throw new Error("rating " + r.status); }
        return r;
      });
    }

    // After 👎: what was wrong (one of REASONS) and a comment; after 👍: a comment. The form is
    // scrolled into view when it opens.
    function commentForm(helpful) {
      var old = bubbleWrap.querySelector(".sq-comment");
      if (old) { old.remove(); }
      var uid = Math.random().toString(36).slice(2);
      var fieldId = "sq-c-" + uid;
      var area = el("textarea", { id: fieldId, className: "sq-comment-input", rows: "2",
                                  maxlength: "500", placeholder: "选填：告诉我们哪里可以改进" });
      var reasons = null;
      if (!helpful) {
        reasons = el("fieldset", { className: "sq-reasons" },
          [el("legend", { className: "sq-comment-label", text: "哪里不满意？" })].concat(
            REASONS.map(function (r) {
              return el("label", { className: "sq-reason" }, [
                el("input", { type: "radio", name: "sq-r-" + uid, value: r }),
                el("span", { text: r })]);
            })));
      }
      var f = el("form", { className: "sq-comment" }, [
        reasons,
        el("label", { "for": fieldId, className: "sq-comment-label", text: "补充意见（选填）" }),
        area,
        el("button", { type: "submit", className: "sq-comment-send", text: "提交意见" })
      ]);
      f.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var text = area.value.trim();
        var picked = f.querySelector("input[type=radio]:checked");
        var reason = picked ? picked.value : null;
        if (!text && !reason) { f.remove(); return; }
        send(helpful, text, reason).then(function () {
          f.remove();
          thanks.textContent = "已收到您的意见，谢谢！";
        }, function () {
          thanks.textContent = "意见提交失败，请稍后再试。";
        });
      });
      bubbleWrap.appendChild(f);
      // After 👎 the first reason takes the focus (a radio: no phone keyboard pops up).
      var first = f.querySelector("input[type=radio]");
      if (first) { first.focus({ preventScroll: true }); }
      f.scrollIntoView({ block: "nearest" });
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
    var citations = Array.isArray(custom.citations) ? custom.citations : [];
    var split = splitQuotes(msg.text, citations);
    if (staffReply(msg)) {  // labelled as the staff's, not the assistant's
      wrap.classList.add("sq-staff");
      bubble.appendChild(el("p", { className: "sq-section-label", text: "工作人员回复" }));
      split.text = split.text.replace(/^【工作人员回复】/, "");
    }
    if (split.text) {
      bubble.appendChild(el("div", { className: "sq-text", text: split.text }));
    }
    if (custom.county && typeof custom.county === "object") { bubble.appendChild(renderCounty(custom.county)); }
    if (custom.eligibility && typeof custom.eligibility === "object") {
      bubble.appendChild(renderEligibility(custom.eligibility));
    }
    if (Array.isArray(custom.responsible_units) && custom.responsible_units.length) {
      bubble.appendChild(renderUnits(custom.responsible_units));
    }
    if (citations.length) {
      // An answer that is nothing but the quotation ("原文") shows it open.
      bubble.appendChild(renderCitations(citations, split.quoted, !split.text));
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
    // Answers are rated; staff replies and the steps of leaving a message are not.
    if ((typeof msg.timestamp === "number" || typeof msg.message_index === "number") &&
        !staffReply(msg) && !custom.handoff) {
      wrap.appendChild(renderRating(msg, wrap));
    }
    log.appendChild(wrap);
    state.bots.push(msg);
    if (typeof msg.timestamp === "number") { state.seen[msg.timestamp] = true; }
    return wrap;
  }

  // ---- hand-off: a staff reply to a message left (bot/staff/hooks.py puts custom.handoff
  // {ticket, status: "open"} on the receipt, bot/staff/handoff.py custom.staff_reply {ticket}
  // on the reply) --------------------------------------------------------------------------

  function staffReply(m) {
    var c = m && m.custom;
    return c && typeof c === "object" && c.staff_reply && typeof c.staff_reply === "object"
      ? c.staff_reply : null;
  }

  // The ticket of the last message left that has no staff reply yet, else null.
  function awaitedTicket() {
    var open = null;
    state.bots.forEach(function (m) {
      var h = m.custom && typeof m.custom === "object" ? m.custom.handoff : null;
      var r = staffReply(m);
      if (h && typeof h === "object" && h.status === "open" && h.ticket !== undefined) {
        open = String(h.ticket);
      }
      if (r && open !== null && String(r.ticket) === open) { open = null; }
    });
    return open;
  }

  function stopPolling() {
    if (state.poll && state.poll.timer) { clearTimeout(state.poll.timer); }
    state.poll = null;
  }

  function watchForReply() {
    var ticket = awaitedTicket();
    if (ticket === null) { stopPolling(); return; }
    if (state.poll && state.poll.ticket === ticket) { return; }
    stopPolling();
    state.poll = { ticket: ticket, until: Date.now() + POLL_FOR_MS, timer: null };
    schedulePoll(state.poll);
  }

  function schedulePoll(p) {
    p.timer = setTimeout(function () { pollOnce(p); }, POLL_MS);
  }

  function pollOnce(p) {
    if (state.poll !== p) { return; }
    if (Date.now() > p.until || !state.sender) { stopPolling(); return; }
    // Not while an answer is awaited (its messages come with it) or the page is hidden.
    if (state.busy || document.hidden) { schedulePoll(p); return; }
    request("GET", "history?sender=" + encodeURIComponent(state.sender)).then(function (r) {
      if (state.poll !== p) { return; }
      if (!r.ok) {
        if (r.status === 403) { stopPolling(); } else { schedulePoll(p); }
        return;
      }
      var items = (r.data && Array.isArray(r.data.messages)) ? r.data.messages : [];
      var first = null;
      items.forEach(function (m) {
        if (m && m.role === "bot" && staffReply(m) && !state.seen[m.timestamp]) {
          var node = addBot(m);
          first = first || node;
        }
      });
      if (first) {
        scrollToStart(first);
        if (!isOpen()) { root.classList.add("sq-has-unread"); }
      }
      if (awaitedTicket() === p.ticket) { schedulePoll(p); } else { stopPolling(); watchForReply(); }
    }, function () {
      if (state.poll === p) { schedulePoll(p); }
    });
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
      state.bots = [];
      state.seen = {};
      var lastBot = null;
      if (r.ok && r.data && Array.isArray(r.data.messages)) {
        var items = r.data.messages;
        var lastUser = -1;
        items.forEach(function (m, i) { if (m.role === "user") { lastUser = i; } });
        items.forEach(function (m, i) {
          if (m.role === "user") { addUser(String(m.text || "")); lastBot = null; }
          else if (m.role === "bot") {
            var node = addBot(m, { stale: i < lastUser });
            lastBot = lastBot || node;
          }
        });
      } else if (r.status === 403) {
        state.sender = null;  // not this server's session (any more): a new one comes with the next question
      } else if (r.status !== 404) {
        showError("暂时无法读取之前的对话记录。", function () { loadHistory(); });
      }
      // Back where the conversation stopped: the last answer from its start.
      scrollDown();
      if (lastBot) { scrollToStart(lastBot); }
      watchForReply();
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
    state.bots = [];
    state.seen = {};
    stopPolling();
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
          msgs = [{ text: "（助手没有给出回答，请换个说法再试。）" }];
        }
        var first = null;
        msgs.forEach(function (m) { var node = addBot(m); first = first || node; });
        scrollToStart(first);
        input.focus({ preventScroll: true });
        watchForReply();
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
