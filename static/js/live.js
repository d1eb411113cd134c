/* Live inbox: listens to the server-sent events of /live/inbox/ (live/views.py) and, when a
   lead reaches me or leaves me, refreshes the list at once (inbox.js), updates the tab title
   and the header badge, raises a desktop notification (if the person allowed it) and plays a
   short sound (if their preferences say so). The stream closes every ~25 s and EventSource
   reconnects by itself; if it cannot, the inbox's 15-second polling still runs. */
(function () {
  "use strict";
  var config = document.getElementById("inbox-live");
  if (!config || !window.EventSource || !window.transbordoInbox) { return; }
  var inbox = window.transbordoInbox;
  var asked = "transbordo.notifications.asked";

  // --- asking for notifications, once, with a reason -------------------------------------
  var offer = document.getElementById("notify-offer");
  function canAsk() {
    return "Notification" in window && Notification.permission === "default" &&
      !window.localStorage.getItem(asked);
  }
  if (offer && canAsk()) {
    offer.hidden = false;
    offer.querySelector("[data-notify-allow]").addEventListener("click", function () {
      window.localStorage.setItem(asked, "1");
      offer.hidden = true;
      Notification.requestPermission();
      unlockSound();
    });
    offer.querySelector("[data-notify-dismiss]").addEventListener("click", function () {
      window.localStorage.setItem(asked, "1");
      offer.hidden = true;
    });
  }

  // --- the sound: a short two-note chime made on the spot (no file, nothing to fetch) ---
  var audio = null;
  function unlockSound() {
    if (config.getAttribute("data-sound") !== "1") { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    audio = audio || new Context();
    if (audio.state === "suspended") { audio.resume(); }
  }
  // Browsers play sound only after the person touched the page once.
  document.addEventListener("click", unlockSound, {once: true});
  document.addEventListener("keydown", unlockSound, {once: true});
  function chime() {
    if (!audio || config.getAttribute("data-sound") !== "1") { return; }
    [660, 880].forEach(function (frequency, i) {
      var start = audio.currentTime + i * 0.18;
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.15, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.17);
    });
  }

  function notify(leads) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    var title = leads.length === 1 ? config.getAttribute("data-one") :
      config.getAttribute("data-many").replace("{n}", String(leads.length));
    var body = leads.map(function (l) { return l.name; }).join(", ");
    var n = new Notification(title, {body: body, tag: "transbordo-lead-" + leads[0].id});
    n.onclick = function () {
      window.focus();
      window.location.href = config.getAttribute("data-lead-url").replace("/0/", "/" + leads[0].id + "/");
      n.close();
    };
  }

  // --- the stream ------------------------------------------------------------------------
  var seen = null;
  var last = null;
  function key(s) { return [s.mine, s.unread, s.unassigned, s.latest].join("|"); }
  function onState(event) {
    var state = JSON.parse(event.data);
    inbox.showUnread(state.unread);
    if (seen === null) {
      // First message: what the page already shows, unless something changed meanwhile.
      seen = {};
      state.newest.forEach(function (l) { seen[l.id] = true; });
      var shown = ["mine", "unassigned"].map(function (tab) {
        var c = document.querySelector('[data-count="' + tab + '"]');
        return c ? parseInt(c.textContent, 10) : null;
      });
      if (shown[0] !== state.mine || (shown[1] !== null && shown[1] !== state.unassigned)) {
        inbox.refresh();
      }
      last = key(state);
      return;
    }
    var fresh = state.newest.filter(function (l) { return !seen[l.id]; });
    fresh.forEach(function (l) { seen[l.id] = true; });
    if (key(state) !== last) {
      last = key(state);
      inbox.refresh();
    }
    if (fresh.length) {
      notify(fresh);
      chime();
    }
  }
  var source = new EventSource(config.getAttribute("data-url"));
  source.addEventListener("inbox", onState);
  config.setAttribute("data-state", "connecting");
  source.addEventListener("open", function () { config.setAttribute("data-state", "open"); });
  source.addEventListener("error", function () {
    // CLOSED: refused for good (signed out, stream off); polling carries on alone.
    config.setAttribute("data-state", source.readyState === 2 ? "closed" : "reconnecting");
  });
})();
