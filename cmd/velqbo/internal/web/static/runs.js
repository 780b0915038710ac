// Runs: while a run is in progress, the box with data-poll is fetched
// again every second and swapped in place; once the run has ended (the
// fresh box no longer polls), the page reloads to show it in the history.
// Without JavaScript, a meta refresh in the box reloads the page instead.
(function () {
  "use strict";
  function poll(el) {
    var url = el.getAttribute("data-poll");
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) { poll(el); return; }
          var box = document.createElement("div");
          box.innerHTML = html;
          var next = box.querySelector("#" + el.id);
          if (!next) { return; }
          el.replaceWith(next);
          if (next.hasAttribute("data-poll")) { poll(next); } else { window.location.reload(); }
        })
        .catch(function () { poll(el); });
    }, 1000);
  }
  document.querySelectorAll("[data-poll]").forEach(poll);
})();
