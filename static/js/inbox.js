/* The inbox refreshes its list every 15 s without a full reload and says when a lead
   overflowed away from me. */
(function () {
  "use strict";
  var box = document.getElementById("inbox-list");
  var notice = document.getElementById("inbox-notice");
  if (!box || !notice) { return; }
  function refresh() {
    var list = box.querySelector("[data-now]");
    var since = list ? list.getAttribute("data-now") : "";
    var url = box.getAttribute("data-refresh-url") + "&since=" + encodeURIComponent(since);
    fetch(url, {headers: {"X-Requested-With": "fetch"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        box.innerHTML = html;
        var moved = box.querySelectorAll("[data-moved-away]");
        if (moved.length) {
          notice.textContent = Array.prototype.map.call(moved, function (m) { return m.textContent; }).join(" ");
          notice.hidden = false;
          setTimeout(function () { notice.hidden = true; }, 8000);
        }
        box.querySelectorAll("[data-count-update]").forEach(function (c) {
          var tab = document.querySelector('[data-count="' + c.getAttribute("data-count-update") + '"]');
          if (tab) { tab.textContent = c.textContent; }
        });
      })
      .catch(function () {});
  }
  setInterval(refresh, 15000);
})();
