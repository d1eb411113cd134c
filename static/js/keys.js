/* The inbox from the keyboard: j / k move down / up the list, Enter opens the lead,
   a assigns it to me (a lead waiting in the queue), ? shows or hides the help, Esc hides it.
   Keys typed into a field, or with Ctrl / Alt / Cmd, are left alone. */
(function () {
  "use strict";
  var box = document.getElementById("inbox-list");
  var help = document.getElementById("kbd-help");
  if (!box || !help) { return; }
  var selectedId = null;

  function rows() { return Array.prototype.slice.call(box.querySelectorAll("tr[data-lead-id]")); }
  function current() {
    return selectedId && box.querySelector('tr[data-lead-id="' + selectedId + '"]');
  }
  function select(row) {
    rows().forEach(function (r) { r.classList.remove("kbd-selected"); r.removeAttribute("aria-current"); });
    if (!row) { selectedId = null; return; }
    selectedId = row.getAttribute("data-lead-id");
    row.classList.add("kbd-selected");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector("a[href]");
    if (link) { link.focus({preventScroll: true}); }
    row.scrollIntoView({block: "nearest"});
  }
  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var at = list.indexOf(current());
    var next = at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    select(list[next]);
  }
  function assign(row) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!row || !token) { return; }
    var form = document.createElement("form");
    form.method = "post";
    form.action = box.getAttribute("data-assign-url").replace("/0/", "/" + row.getAttribute("data-lead-id") + "/");
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "csrfmiddlewaretoken";
    field.value = token.value;
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  }
  function toggleHelp(show) {
    help.hidden = !show;
    if (show) { help.querySelector("[data-kbd-close]").focus(); }
  }
  help.addEventListener("click", function (event) {
    if (event.target === help || event.target.hasAttribute("data-kbd-close")) { toggleHelp(false); }
  });

  // The list is replaced on every refresh: keep the selected lead selected.
  new MutationObserver(function () {
    var row = current();
    if (row) { row.classList.add("kbd-selected"); row.setAttribute("aria-current", "true"); }
  }).observe(box, {childList: true});

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) { return; }
    if (event.key === "Escape" && !help.hidden) { toggleHelp(false); return; }
    if (event.key === "?") { event.preventDefault(); toggleHelp(help.hidden); return; }
    if (!help.hidden) { return; }
    if (event.key === "j") { event.preventDefault(); move(1); }
    else if (event.key === "k") { event.preventDefault(); move(-1); }
    else if (event.key === "Enter") {
      var row = current();
      var link = row && row.querySelector("a[href]");
      if (link && target !== link) { event.preventDefault(); window.location.href = link.href; }
    } else if (event.key === "a") {
      if (current()) { event.preventDefault(); assign(current()); }
    }
  });
})();
