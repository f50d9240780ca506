// Browser notifications and the optional sound for new alerts (components/alerts.py).
// Permission is asked only when the user clicks "Turn on browser notifications", never on
// load; the choice is kept in localStorage. A notification's tag is the alert's key, so
// two open tabs show one notification per alert, not two.
(function () {
  const KEY = "strat-alerts-notify";

  function supported() {
    return typeof window.Notification !== "undefined";
  }

  function statusText() {
    if (!supported()) {
      return "This browser has no notifications; alerts show here and as toasts.";
    }
    const p = window.Notification.permission;
    if (p === "denied") {
      return "Browser notifications are blocked for this site (allow them in the browser's site settings).";
    }
    if (p === "granted" && window.localStorage.getItem(KEY) === "on") {
      return "Browser notifications are on.";
    }
    return "Browser notifications are off.";
  }

  function beep() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      const ctx = new Ctx();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.4);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    } catch (e) {
      // no audio device: the toast and the notification still show
    }
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    alerts: {
      notify: function (items, sound) {
        if (!items || !items.length) return window.dash_clientside.no_update;
        if (sound) beep();
        if (supported() && window.Notification.permission === "granted" &&
            window.localStorage.getItem(KEY) === "on") {
          for (const a of items) {
            try {
              new window.Notification(a.title, { body: a.body, tag: a.tag });
            } catch (e) {
              // some browsers allow notifications only from a service worker
            }
          }
        }
        return items.length;
      },
      permission: function (nClicks) {
        if (!nClicks) return statusText();
        if (!supported()) return statusText();
        if (window.Notification.permission === "granted" &&
            window.localStorage.getItem(KEY) === "on") {
          window.localStorage.setItem(KEY, "off");  // a second click turns them off
          return statusText();
        }
        return window.Notification.requestPermission().then(function (p) {
          window.localStorage.setItem(KEY, p === "granted" ? "on" : "off");
          return statusText();
        });
      },
    },
  });
})();
