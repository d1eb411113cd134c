/* The inbox refreshes its list every 15 s without a full reload (and at once when the live
   stream, live.js, says something changed), says when a lead overflowed away from me, and
   keeps the tab counts, the header badge and the tab title in step with the list. */
(function () {
  "use strict";
  var box = document.getElementById("inbox-list");
  var notice = document.getElementById("inbox-notice");
  if (!box || !notice) { return; }
  var baseTitle = document.title.replace(/^\(\d+\)\s*/, "");

  // "(3) Caixa de entrada · Transbordo" and the badge next to Inbox: leads not opened yet.
  function showUnread(n) {
    n = parseInt(n, 10) || 0;
    document.title = (n ? "(" + n + ") " : "") + baseTitle;
    var badge = document.getElementById("unread-badge");
    if (!badge && n) {
      var link = document.querySelector("header nav a[data-nav='inbox']") ||
        document.querySelector("header nav a[href='" + box.getAttribute("data-inbox-url") + "']");
      if (!link) { return; }
      badge = document.createElement("span");
      badge.id = "unread-badge";
      badge.className = "count unread";
      badge.title = box.getAttribute("data-badge-title") || "";
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    }
    if (badge) {
      badge.textContent = String(n);
      badge.hidden = !n;
    }
  }

  function refresh() {
    var list = box.querySelector("[data-now]");
    var since = list ? list.getAttribute("data-now") : "";
    var url = box.getAttribute("data-refresh-url") + "&since=" + encodeURIComponent(since);
    return fetch(url, {headers: {"X-Requested-With": "fetch"}, credentials: "same-origin"})
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
        var unread = box.querySelector("[data-unread-update]");
        if (unread) { showUnread(unread.textContent); }
      })
      .catch(function () {});
  }

  window.transbordoInbox = {refresh: refresh, showUnread: showUnread};
  setInterval(refresh, 15000);
})();
