// Live updates of a record's page (docs/console.md, "Live updates"): an EventSource on
// /records/<id>/events; each "record" event replaces the facts and the thread with the server's
// rendering (the same escaping and sanitising as the page), tells screen readers politely what
// changed (new messages, each new status or assignment marker in its words), and leaves every form (and what is typed in it) alone. Without JavaScript the page's
// Refresh link does the same by hand.
"use strict";
(function () {
  var thread = document.getElementById("thread");
  var facts = document.getElementById("record-facts");
  var state = document.getElementById("live-state");
  var news = document.getElementById("thread-news");
  if (!thread || !facts || !state || !news || !window.EventSource) { return; }

  function messages() { return thread.querySelectorAll("article.message").length; }
  function markers() { return thread.querySelectorAll(".change-marker"); }

  function show(text, className) {
    state.hidden = false;
    state.textContent = text;
    state.className = className;
  }

  function announce(before, after, statusBefore, statusAfter, changed) {
    var said = [];
    if (after > before) {
      said.push(after - before === 1 ? "1 new message in the thread." : (after - before) + " new messages in the thread.");
    }
    // A new change marker says itself ("Closed by alice."); else the status alone.
    changed.forEach(function (text) { said.push(text + "."); });
    if (statusAfter !== statusBefore && !changed.length) { said.push("The status is now " + statusAfter + "."); }
    // A fresh text node each time: screen readers announce a change, not the same words twice.
    news.textContent = "";
    if (said.length) { news.textContent = said.join(" "); }
  }

  function where(element) {
    return element && thread.contains(element) && element.getAttribute("href");
  }

  var status = thread.getAttribute("data-status");
  var source = new EventSource(thread.getAttribute("data-events"));
  source.addEventListener("open", function () { show("Live", "live-on"); });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) { show("Not live: use Refresh", "live-off"); }
    else { show("Reconnecting…", "live-retry"); }
  });
  source.addEventListener("record", function (e) {
    var data = JSON.parse(e.data);
    var before = messages();
    var seen = {};
    Array.prototype.forEach.call(markers(), function (m) { seen[m.id] = true; });
    // The server's own rendering of the page's partials: escaped and sanitised as the page is.
    var focused = where(document.activeElement);
    facts.innerHTML = data.facts;
    thread.innerHTML = data.thread;
    if (focused) {
      // The same link again after the swap: a keyboard user keeps their place in the thread.
      var again = thread.querySelector('a[href="' + CSS.escape(focused) + '"]');
      if (again) { again.focus(); }
    }
    var changed = [];
    Array.prototype.forEach.call(markers(), function (m) {
      if (!seen[m.id]) { changed.push(m.querySelector(".change-text").textContent); }
    });
    announce(before, messages(), status, data.status, changed);
    status = data.status;
    show("Live", "live-on");
  });
  source.addEventListener("ended", function (e) {
    source.close();
    var why = JSON.parse(e.data).why;
    show(why === "gone" ? "This record was deleted" : "Signed out: sign in again and use Refresh", "live-off");
  });
})();
