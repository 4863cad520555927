// The records list's live notice (docs/console.md, "Live updates"): an EventSource on
// /records/events counts the records newer than this page, shown as "N new: refresh" (a
// link that reloads the list as it is filtered). The list itself is never changed under the
// reader's eyes; without JavaScript the notice stays empty.
"use strict";
(function () {
  var news = document.getElementById("records-news");
  if (!news || !window.EventSource) { return; }
  var source = new EventSource(news.getAttribute("data-events"));
  source.addEventListener("records", function (e) {
    var count = JSON.parse(e.data).new;
    news.replaceChildren();
    if (!count) { return; }
    var link = document.createElement("a");
    link.href = window.location.pathname + window.location.search;
    link.textContent = (count === 1 ? "1 new record" : count + " new records") + ": refresh";
    news.append(link);
  });
  source.addEventListener("ended", function () { source.close(); });
})();
