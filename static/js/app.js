/* Behaviour every page shares, bound here because the Content-Security-Policy allows no
   inline scripts or event handlers (docs/security.md). */
(function () {
  "use strict";
  // <select data-autosubmit>: choosing an option submits its form (presence, language).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });
  // The header's Menu button (phones): folds and unfolds the header's menu.
  var toggle = document.querySelector(".topbar .menu-toggle");
  if (toggle) {
    var bar = toggle.closest(".topbar");
    bar.classList.add("collapsible");
    toggle.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // The header's "More" list closes on a click elsewhere or on Escape.
  function closeMore(except) {
    document.querySelectorAll("details.more[open]").forEach(function (more) {
      if (more !== except) { more.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (event) {
    closeMore(event.target.closest ? event.target.closest("details.more") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeMore(null); }
  });
  // <form data-confirm="Question?">: asks before submitting; Cancel keeps the page as it is.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Sign-up: the slug follows the organization's name until typed in, and the time zone
  // starts as the browser's.
  var slug = document.querySelector("input[data-slug-from]");
  var source = slug && document.getElementById(slug.getAttribute("data-slug-from"));
  if (slug && source) {
    var edited = slug.value !== "";
    slug.addEventListener("input", function () { edited = slug.value !== ""; });
    source.addEventListener("input", function () {
      if (edited) { return; }
      slug.value = source.value.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
        .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 56);
    });
  }
  var zone = document.querySelector("input[data-browser-time-zone]");
  if (zone && window.Intl) {
    var browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (browserZone) { zone.value = browserZone; }
  }
})();
