// The health page refreshes itself every 10 s: the page is fetched again and its #health
// section replaced. Without JavaScript the "Refresh" link does the same.
"use strict";
(function () {
  var section = document.getElementById("health");
  if (!section || !window.fetch || !window.DOMParser) {
    return;
  }
  function refresh() {
    fetch(section.getAttribute("data-refresh"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("not refreshed");
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("health");
        if (fresh) {
          section.innerHTML = fresh.innerHTML;
        }
      })
      .catch(function () {
        // The next refresh tries again; the Refresh link always works.
      });
  }
  window.setInterval(refresh, 10000);
})();
