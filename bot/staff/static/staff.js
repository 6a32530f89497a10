// The staff console: plain JavaScript over /staff/api/. Every value from the server is put
// into the page with textContent (never innerHTML), so conversation text is shown, not run.
(function () {
  "use strict";
  var view = document.getElementById("view");
  var me = null;

  // ---- helpers ------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k] == null ? "" : String(attrs[k]); }
      else if (k === "className") { node.className = attrs[k]; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) { return; }
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function time(ts) {
    if (!ts) { return ""; }
    var d = new Date(ts * 1000);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function age(seconds) {
    if (seconds < 3600) { return Math.max(1, Math.round(seconds / 60)) + " 分钟"; }
    if (seconds < 86400) { return Math.round(seconds / 3600) + " 小时"; }
    return Math.round(seconds / 86400) + " 天";
  }

  function api(method, path, body) {
    var headers = {};
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRF-Token"] = me ? me.csrf_token : "";
    }
    return fetch("/staff/api/" + path, {
      method: method, credentials: "same-origin", headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 401) { window.location.href = "/staff/login"; throw new Error("401"); }
      var type = r.headers.get("content-type") || "";
      var read = type.indexOf("json") >= 0 ? r.json() : r.text();
      return read.then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }

  function query(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== "" && params[k] != null; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }

  function hashParams() {
    var h = window.location.hash.replace(/^#/, "");
    var i = h.indexOf("?");
    var out = {};
    if (i >= 0) {
      h.slice(i + 1).split("&").forEach(function (kv) {
        if (!kv) { return; }
        var p = kv.split("=");
        out[decodeURIComponent(p[0])] = decodeURIComponent(p[1] || "");
      });
    }
    return { path: i >= 0 ? h.slice(0, i) : h, params: out };
  }

  function show(title, nodes) {
    view.textContent = "";
    view.appendChild(el("h2", { text: title }));
    nodes.forEach(function (n) { if (n) { view.appendChild(n); } });
  }

  function errorBox(r) {
    return el("p", { className: "error", role: "alert", text: (r.data && r.data.error) || ("出错了（" + r.status + "）") });
  }

  function tags(t) {
    var out = el("span");
    if (t.out_of_scope) { out.appendChild(el("span", { className: "tag bad", text: "超出范围" })); }
    if (t.fallback) { out.appendChild(el("span", { className: "tag bad", text: "未理解" })); }
    if (t.rephrase) { out.appendChild(el("span", { className: "tag bad", text: "请换说法" })); }
    if (t.low_confidence) { out.appendChild(el("span", { className: "tag bad", text: "低置信度" })); }
    if (t.handoff) { out.appendChild(el("span", { className: "tag", text: "留言" })); }
    if (t.verdict) { out.appendChild(el("span", { className: "tag", text: "资格：" + t.verdict })); }
    return out;
  }

  function rating(r) {
    if (!r) { return ""; }
    return (r.helpful ? "有用" : "没用") + (r.reason ? " " + r.reason : "") + (r.comment ? "：" + r.comment : "");
  }

  function pager(data, params, route) {
    var box = el("div", { className: "pager" });
    var page = data.page || 1;
    if (page > 1) {
      box.appendChild(el("a", { href: "#" + route + "?" + query(Object.assign({}, params, { page: page - 1 })), text: "上一页" }));
    }
    box.appendChild(el("span", { text: "第 " + page + " 页" }));
    if (data.has_more) {
      box.appendChild(el("a", { href: "#" + route + "?" + query(Object.assign({}, params, { page: page + 1 })), text: "下一页" }));
    }
    return box;
  }

  var FILTERS = [
    ["from", "开始日期", "date"], ["to", "结束日期", "date"],
    ["channel", "渠道", [["", "全部"], ["widget", "网页"], ["wechat", "微信"], ["rest", "REST"]]],
    ["rating", "评价", [["", "全部"], ["up", "有用"], ["down", "没用"], ["any", "有评价"]]],
    ["verdict", "资格判断", [["", "全部"], ["eligible", "符合"], ["ineligible", "不符合"], ["need_info", "待补充"], ["uncertain", "不确定"]]],
    ["flag", "情况", [["", "全部"], ["unanswered", "未解决"], ["oos", "超出范围"], ["fallback", "未理解"], ["rephrase", "请换说法"], ["low", "低置信度"], ["handoff", "留言"]]],
    ["clause", "引用条款", "text"], ["q", "关键词", "text"]
  ];

  function filterForm(route, params, keep) {
    var form = el("form", { className: "filters", role: "search" });
    FILTERS.forEach(function (f) {
      if (keep && keep.indexOf(f[0]) < 0) { return; }
      var input;
      if (Array.isArray(f[2])) {
        input = el("select", { name: f[0] });
        f[2].forEach(function (o) {
          input.appendChild(el("option", { value: o[0], text: o[1], selected: params[f[0]] === o[0] ? "selected" : null }));
        });
      } else {
        input = el("input", { name: f[0], type: f[2], value: params[f[0]] || "" });
      }
      form.appendChild(el("label", {}, [f[1], input]));
    });
    form.appendChild(el("button", { type: "submit", text: "筛选" }));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var p = {};
      Array.prototype.forEach.call(form.elements, function (e) { if (e.name && e.value) { p[e.name] = e.value; } });
      window.location.hash = "#" + route + "?" + query(p);
    });
    return form;
  }

  function csvLink(path, params) {
    var p = Object.assign({}, params, { format: "csv" });
    delete p.page;
    return el("a", { href: "/staff/api/" + path + "?" + query(p), text: "导出 CSV", download: "" });
  }

  // ---- charts (inline SVG) ------------------------------------------------------------------

  var SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var n = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) { n.textContent = String(text); }
    return n;
  }

  function barChart(title, rows, label, value) {
    var box = el("div", { className: "chart" }, [el("h3", { text: title })]);
    if (!rows.length) { box.appendChild(el("p", { text: "暂无数据" })); return box; }
    var max = Math.max.apply(null, rows.map(value).concat([1]));
    var h = 22 * rows.length + 10;
    var chart = svg("svg", { width: "100%", height: String(h), viewBox: "0 0 600 " + h, role: "img", "aria-label": title });
    rows.forEach(function (r, i) {
      var w = Math.round(380 * value(r) / max);
      chart.appendChild(svg("text", { x: "0", y: String(22 * i + 16), "font-size": "12" }, label(r)));
      chart.appendChild(svg("rect", { x: "180", y: String(22 * i + 4), width: String(Math.max(w, 1)), height: "14", fill: "#3b7dd8" }));
      chart.appendChild(svg("text", { x: String(186 + w), y: String(22 * i + 16), "font-size": "12" }, value(r)));
    });
    box.appendChild(chart);
    return box;
  }

  function pct(x) { return x == null ? "—" : (Math.round(x * 1000) / 10) + "%"; }

  // ---- views --------------------------------------------------------------------------------

  function dashboard(params) {
    api("GET", "dashboard?" + query(params)).then(function (r) {
      if (!r.ok) { return show("看板", [errorBox(r)]); }
      var d = r.data;
      var cards = el("div", { className: "cards" }, [
        el("div", { className: "card" }, [el("b", { text: d.questions }), "提问"]),
        el("div", { className: "card" }, [el("b", { text: d.conversations }), "对话（按日合计）"]),
        el("div", { className: "card" }, [el("b", { text: pct(d.answered_share) }), "已回答比例"]),
        el("div", { className: "card" }, [el("b", { text: pct(d.ratings.down_share) }), "“没用”比例（有用 " + d.ratings.up + " / 没用 " + d.ratings.down + "）"]),
        el("div", { className: "card" }, [el("b", { text: (d.latency_ms.p50 == null ? "—" : d.latency_ms.p50 + " / " + d.latency_ms.p95) }), "耗时 p50 / p95（毫秒）"]),
        el("div", { className: "card" }, [el("b", { text: d.tickets_open }), el("a", { href: "#/tickets?status=open", text: "待回复留言" })])
      ]);
      show("看板", [
        filterForm("/dashboard", params, ["from", "to", "channel"]), cards,
        barChart("每日提问", d.per_day, function (x) { return x.day; }, function (x) { return x.questions; }),
        barChart("各渠道提问", d.per_channel, function (x) { return x.channel; }, function (x) { return x.questions; }),
        barChart("引用最多的条款", d.top_clauses, function (x) { return x.clause_id + (x.down ? "（没用 " + x.down + "）" : ""); }, function (x) { return x.count; }),
        barChart("资格判断结果", d.verdicts, function (x) { return x.verdict; }, function (x) { return x.count; })
      ]);
    });
  }

  function conversations(params) {
    api("GET", "conversations?" + query(params)).then(function (r) {
      if (!r.ok) { return show("对话", [filterForm("/conversations", params), errorBox(r)]); }
      var table = el("table", { id: "conversation-list" }, [el("tr", {}, ["最后时间", "渠道", "提问数", "最后一问", "评价"].map(function (h) { return el("th", { text: h }); }))]);
      r.data.items.forEach(function (c) {
        table.appendChild(el("tr", { className: c.down ? "down" : "" }, [
          el("td", {}, [el("a", { href: "#/conversation?id=" + encodeURIComponent(c.id), text: time(c.last_ts) })]),
          el("td", { text: c.channel }), el("td", { text: c.turns }), el("td", { text: c.last_text }),
          el("td", { text: (c.up ? "有用 " + c.up + " " : "") + (c.down ? "没用 " + c.down : "") })
        ]));
      });
      if (!r.data.items.length) { table.appendChild(el("tr", {}, [el("td", { colspan: "5", text: "没有符合条件的对话" })])); }
      show("对话", [filterForm("/conversations", params), csvLink("conversations", params), table, pager(r.data, params, "/conversations")]);
    });
  }

  function conversation(params) {
    api("GET", "conversations/" + encodeURIComponent(params.id)).then(function (r) {
      if (!r.ok) { return show("对话", [errorBox(r)]); }
      var c = r.data;
      var nodes = [el("p", { className: "meta", text: "对话 " + c.id + " · " + c.channel + " · " + time(c.first_ts) + " 至 " + time(c.last_ts) })];
      c.tickets.forEach(function (t) {
        nodes.push(el("p", {}, [el("a", { href: "#/ticket?id=" + t.id, text: "留言工单 #" + t.id + "（" + t.status + "）" })]));
      });
      c.turns_detail.forEach(function (t) {
        var ents = (t.entities || []).map(function (e) { return e.entity + "=" + e.value; }).join("，");
        nodes.push(el("div", { className: "turn" }, [
          el("div", { className: "meta", text: time(t.ts) + " · 意图 " + (t.intent || "—") + (t.confidence != null ? "（" + t.confidence.toFixed(2) + "）" : "") + (ents ? " · 实体 " + ents : "") + (t.latency_ms != null ? " · " + t.latency_ms + " ms" : "") }),
          el("div", { className: "user", text: t.text }),
          el("div", { className: "answer", text: t.answer || "（无回答）" }),
          el("div", { className: "meta" }, [tags(t), t.clauses.length ? "引用条款：" + t.clauses.join("、") + " " : "", t.rating ? el("strong", { text: rating(t.rating) }) : null])
        ]));
      });
      show("对话详情", nodes);
    });
  }

  function ratings(params) {
    var p = Object.assign({ rating: "any" }, params);
    api("GET", "turns?" + query(p)).then(function (r) {
      if (!r.ok) { return show("评价", [errorBox(r)]); }
      var table = el("table", {}, [el("tr", {}, ["时间", "评价", "提问", "引用条款", "对话"].map(function (h) { return el("th", { text: h }); }))]);
      r.data.items.forEach(function (t) {
        table.appendChild(el("tr", { className: t.rating && !t.rating.helpful ? "down" : "" }, [
          el("td", { text: time(t.ts) }), el("td", { text: rating(t.rating) }), el("td", { text: t.text }),
          el("td", { text: t.clauses.join("、") }),
          el("td", {}, [el("a", { href: "#/conversation?id=" + encodeURIComponent(t.conversation), text: "查看" })])
        ]));
      });
      show("评价", [filterForm("/ratings", p, ["from", "to", "channel", "rating", "clause", "q"]), csvLink("turns", p), table, pager(r.data, p, "/ratings")]);
    });
  }

  function unanswered(params) {
    api("GET", "unanswered?" + query(params)).then(function (r) {
      if (!r.ok) { return show("未解决问题", [errorBox(r)]); }
      var table = el("table", {}, [el("tr", {}, ["选择", "代表问题", "次数", "类型", "例句", "对话"].map(function (h) { return el("th", { text: h }); }))]);
      var boxes = [];
      r.data.items.forEach(function (g) {
        var box = el("input", { type: "checkbox" });
        boxes.push({ box: box, group: g });
        table.appendChild(el("tr", {}, [
          el("td", {}, [box]), el("td", { text: g.text }), el("td", { text: g.count }),
          el("td", { text: Object.keys(g.kinds).map(function (k) { return k + "×" + g.kinds[k]; }).join(" ") }),
          el("td", { text: g.examples.join(" / ") }),
          el("td", {}, g.conversations.slice(0, 3).map(function (id) { return el("a", { href: "#/conversation?id=" + encodeURIComponent(id), text: "查看 " }); }))
        ]));
      });
      var intent = el("input", { name: "intent", value: "out_of_scope", "aria-label": "导出的意图" });
      var msg = el("p", { role: "status" });
      function chosen() { return boxes.filter(function (b) { return b.box.checked; }).map(function (b) { return b.group; }); }
      var reviewBtn = el("button", { type: "button", text: "标记为已处理", onclick: function () {
        var keys = [];
        chosen().forEach(function (g) { keys = keys.concat(g.keys); });
        if (!keys.length) { msg.textContent = "请先选择分组"; return; }
        api("POST", "unanswered/review", { keys: keys }).then(function (x) {
          if (x.ok) { unanswered(params); } else { msg.textContent = x.data.error || "失败"; }
        });
      } });
      var exportBtn = el("button", { type: "button", text: "导出为 NLU 训练样例", onclick: function () {
        var items = [];
        chosen().forEach(function (g) { g.examples.forEach(function (t) { items.push({ text: t, intent: intent.value }); }); });
        if (!items.length) { msg.textContent = "请先选择分组"; return; }
        api("POST", "unanswered/export", { items: items }).then(function (x) {
          if (!x.ok) { msg.textContent = (x.data && x.data.error) || "导出失败"; return; }
          var a = el("a", { href: URL.createObjectURL(new Blob([x.data], { type: "text/yaml" })), download: "nlu-review.yml" });
          document.body.appendChild(a); a.click(); a.remove();
        });
      } });
      show("未解决问题", [filterForm("/unanswered", params, ["from", "to", "channel", "q"]), csvLink("unanswered", params),
        el("p", {}, [reviewBtn, " 意图：", intent, " ", exportBtn]), msg, table, pager(r.data, params, "/unanswered")]);
    });
  }

  var STATUS = { open: "待回复", answered: "已回复", closed: "已关闭" };

  function tickets(params) {
    api("GET", "tickets?" + query(params)).then(function (r) {
      if (!r.ok) { return show("人工留言", [errorBox(r)]); }
      var table = el("table", { id: "ticket-list" }, [el("tr", {}, ["工单", "状态", "已等待", "渠道", "留言", "联系方式", "问题"].map(function (h) { return el("th", { text: h }); }))]);
      r.data.items.forEach(function (t) {
        table.appendChild(el("tr", {}, [
          el("td", {}, [el("a", { href: "#/ticket?id=" + t.id, text: "#" + t.id })]),
          el("td", { text: STATUS[t.status] || t.status }), el("td", { text: age(t.age_s) }),
          el("td", { text: t.channel }), el("td", { text: t.message }), el("td", { text: t.contact || "" }),
          el("td", { className: "error", text: t.last_error || "" })
        ]));
      });
      var filter = el("p", {}, [["", "全部"], ["open", "待回复"], ["answered", "已回复"], ["closed", "已关闭"]].map(function (s) {
        return el("a", { href: "#/tickets?" + query({ status: s[0] }), text: s[1] + " " });
      }));
      show("人工留言", [filter, csvLink("tickets", params), table, pager(r.data, params, "/tickets")]);
    });
  }

  function ticket(params) {
    api("GET", "tickets/" + encodeURIComponent(params.id)).then(function (r) {
      if (!r.ok) { return show("留言工单", [errorBox(r)]); }
      var t = r.data;
      var nodes = [
        el("p", { className: "meta", text: "#" + t.id + " · " + (STATUS[t.status] || t.status) + " · " + t.channel + " · 已等待 " + age(t.age_s) + " · 创建于 " + time(t.created_at) }),
        el("p", {}, [el("a", { href: "#/conversation?id=" + encodeURIComponent(t.conversation), text: "查看完整对话" })]),
        t.contact ? el("p", { text: "联系方式：" + t.contact }) : null,
        t.last_error ? el("p", { className: "error", role: "alert", text: "上次发送未成功：" + t.last_error }) : null,
        el("h3", { text: "对话记录" })
      ];
      (t.transcript || []).forEach(function (x) {
        nodes.push(el("div", { className: "turn" }, [el("div", { className: "meta", text: time(x.ts) }), el("div", { className: "user", text: x.user_text }), el("div", { className: "answer", text: x.answer || "" })]));
      });
      nodes.push(el("h3", { text: "留言与回复" }));
      (t.messages || []).forEach(function (m) {
        nodes.push(el("div", { className: "turn" }, [
          el("div", { className: "meta", text: time(m.at) + " · " + (m.author === "staff" ? "工作人员 " + (m.username || "") : "用户") + (m.author === "staff" ? (m.delivered ? " · 已送达" : " · 未送达") : "") }),
          el("div", { className: "user", text: m.text }), m.error ? el("div", { className: "error", text: m.error }) : null
        ]));
      });
      if (me.user.role === "manage" && t.status !== "closed") {
        var text = el("textarea", { id: "reply-text", "aria-label": "回复内容", maxlength: "1000" });
        var status = el("p", { role: "status", id: "reply-status" });
        nodes.push(el("form", { id: "reply-form", onsubmit: function (ev) {
          ev.preventDefault();
          api("POST", "tickets/" + t.id + "/reply", { text: text.value }).then(function (x) {
            if (x.ok) { ticket(params); } else { status.textContent = (x.data && x.data.error) || "发送失败"; status.className = "error"; }
          });
        } }, [text, el("button", { type: "submit", text: "发送回复" }), " ",
          el("button", { type: "button", text: "关闭工单", onclick: function () {
            api("POST", "tickets/" + t.id + "/close", {}).then(function () { ticket(params); });
          } }), status]));
      }
      show("留言工单", nodes);
    });
  }

  function users() {
    api("GET", "users").then(function (r) {
      if (!r.ok) { return show("账号", [errorBox(r)]); }
      var table = el("table", {}, [el("tr", {}, ["用户名", "角色", "状态", "创建时间", ""].map(function (h) { return el("th", { text: h }); }))]);
      r.data.items.forEach(function (u) {
        table.appendChild(el("tr", {}, [el("td", { text: u.username }), el("td", { text: u.role_name }),
          el("td", { text: u.disabled ? "已停用" : (u.locked ? "已锁定" : "正常") }), el("td", { text: time(u.created_at) }),
          el("td", {}, [u.username === me.user.username || u.disabled ? null : el("button", { type: "button", text: "停用", onclick: function () {
            api("POST", "users/" + encodeURIComponent(u.username) + "/disable", {}).then(function () { users(); });
          } })])]));
      });
      var form = el("form", { className: "filters" });
      var name = el("input", { name: "username", required: "required" });
      var pass = el("input", { name: "password", type: "password", required: "required", autocomplete: "new-password" });
      var role = el("select", { name: "role" }, [el("option", { value: "view", text: "查看" }), el("option", { value: "manage", text: "管理" })]);
      var msg = el("p", { role: "status" });
      form.appendChild(el("label", {}, ["用户名", name]));
      form.appendChild(el("label", {}, ["初始密码（至少10位）", pass]));
      form.appendChild(el("label", {}, ["角色", role]));
      form.appendChild(el("button", { type: "submit", text: "添加账号" }));
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("POST", "users", { username: name.value, password: pass.value, role: role.value }).then(function (x) {
          if (x.ok) { users(); } else { msg.textContent = x.data.error || "失败"; msg.className = "error"; }
        });
      });
      show("账号", [table, el("h3", { text: "添加账号" }), form, msg]);
    });
  }

  function audit(params) {
    api("GET", "audit?" + query(params)).then(function (r) {
      if (!r.ok) { return show("操作日志", [errorBox(r)]); }
      var table = el("table", {}, [el("tr", {}, ["时间", "用户", "操作", "对象", "详情", "地址"].map(function (h) { return el("th", { text: h }); }))]);
      r.data.items.forEach(function (a) {
        table.appendChild(el("tr", {}, [a.at, a.username, a.action, a.target, a.detail, a.ip].map(function (v, i) { return el("td", { text: i === 0 ? time(v) : v }); })));
      });
      show("操作日志", [table, pager(r.data, params, "/audit")]);
    });
  }

  var ROUTES = { "/dashboard": dashboard, "/conversations": conversations, "/conversation": conversation,
    "/ratings": ratings, "/unanswered": unanswered, "/tickets": tickets, "/ticket": ticket,
    "/users": users, "/audit": audit };

  function route() {
    var h = hashParams();
    var fn = ROUTES[h.path] || dashboard;
    Array.prototype.forEach.call(document.querySelectorAll("#nav a"), function (a) {
      a.classList.toggle("active", a.getAttribute("href") === "#" + h.path);
    });
    fn(h.params);
  }

  document.getElementById("logout").addEventListener("click", function () {
    api("POST", "logout", {}).then(function () { window.location.href = "/staff/login"; });
  });

  api("GET", "me").then(function (r) {
    me = r.data;
    document.getElementById("who").textContent = me.user.username + "（" + me.user.role_name + "）";
    if (me.user.role !== "manage") {
      Array.prototype.forEach.call(document.querySelectorAll(".manage-only"), function (a) { a.classList.add("hidden"); });
    }
    window.addEventListener("hashchange", route);
    route();
  });
})();
