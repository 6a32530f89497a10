// Sign-in: POST /staff/api/login, then the console.
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  var error = document.getElementById("login-error");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    error.textContent = "";
    fetch("/staff/api/login", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: form.username.value, password: form.password.value })
    }).then(function (r) {
      return r.json().then(function (data) {
        if (r.ok) { window.location.href = "/staff/"; }
        else { error.textContent = data.error || "登录失败"; }
      });
    }, function () { error.textContent = "无法连接到服务器"; });
  });
})();
