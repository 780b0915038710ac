// The QuickBooks selector's search as you type, for the Customers and
// Products pages. The form submits and the page comes back with the
// results, with or without JavaScript; with it, the results fragment is
// also fetched as the person types and swapped in place. The request says HX-Request, as
// htmx would, so the server answers with the fragment alone.
(function () {
  "use strict";
  document.querySelectorAll("form[data-live-search]").forEach(function (form) {
    var target = document.getElementById(form.getAttribute("data-target"));
    var input = form.querySelector("input[type=search]");
    if (!target || !input) {
      return;
    }
    var timer = null;
    var seq = 0;
    function search() {
      var mine = ++seq;
      var url = form.getAttribute("data-live-search") + "?" + new URLSearchParams(new FormData(form)).toString();
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (resp) {
          if (!resp.ok) {
            throw new Error("status " + resp.status);
          }
          return resp.text();
        })
        .then(function (html) {
          // Only the answer to the latest keystroke is shown.
          if (mine === seq) {
            target.innerHTML = html;
          }
        })
        .catch(function () {
          // The plain form still works: submit it.
          if (mine === seq) {
            form.submit();
          }
        });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 300);
    });
    // The Search button still loads the page with the results (a link
    // to share, the back button): only typing is answered in place.
    form.addEventListener("submit", function () {
      clearTimeout(timer);
      seq++;
    });
  });
})();
