// The integration form: show only the chosen service provider's fields. Without this script
// both groups show under their legends and the server uses only the chosen one's. A hidden
// group is also disabled, so its inputs are neither validated by the browser nor posted.
(function () {
  "use strict";
  function show(select) {
    document.querySelectorAll("fieldset.provider-fields").forEach(function (group) {
      var off = group.getAttribute("data-provider") !== select.value;
      group.hidden = off;
      group.disabled = off;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("provider");
    if (!select) {
      return;
    }
    select.addEventListener("change", function () { show(select); });
    show(select);
  });
})();
