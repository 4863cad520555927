// "Test connection" with JavaScript: the same POST asks for text/event-stream and each step
// is shown as it finishes. Without JavaScript the form posts and the page lists every step.
"use strict";
(function () {
  var form = document.getElementById("connection-test");
  var list = document.getElementById("test-results");
  if (!form || !list || !window.fetch || !window.TextDecoder) { return; }

  function mark(ok) { return ok === true ? "✓" : ok === false ? "✗" : "–"; }
  function said(ok) { return ok === true ? "passed" : ok === false ? "failed" : "not proven"; }

  function show(step) {
    var item = document.createElement("li");
    item.className = step.ok === true ? "step-ok" : step.ok === false ? "step-failed" : "step-unknown";
    var sign = document.createElement("span");
    sign.setAttribute("aria-hidden", "true");
    sign.textContent = mark(step.ok) + " ";
    var name = document.createElement("strong");
    name.textContent = step.step;
    item.append(sign, name, " (" + said(step.ok) + "): " + step.detail);
    if (step.fix && step.ok !== true) {
      var fix = document.createElement("span");
      fix.className = "fix";
      fix.textContent = "Fix: " + step.fix;
      item.append(document.createElement("br"), fix);
    }
    list.append(item);
  }

  function handle(block) {
    var event = "", data = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) { event = line.slice(7); }
      if (line.indexOf("data: ") === 0) { data += line.slice(6); }
    });
    if (event === "step") { show(JSON.parse(data)); }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    list.replaceChildren();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "text/event-stream" }
    }).then(function (response) {
      if (!response.ok || !response.body) { form.submit(); return; }
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { button.disabled = false; return; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var blocks = buffer.split("\n\n");
          buffer = blocks.pop();
          blocks.forEach(handle);
          return pump();
        });
      }
      return pump();
    }).catch(function () { button.disabled = false; form.submit(); });
  });
})();
