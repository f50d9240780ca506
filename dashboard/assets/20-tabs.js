// Clientside callbacks: no server round trip for what the browser already knows.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  tabs: {
    // Keeps the address bar's hash on the visible tab (#regime, #options, ...), so a tab
    // can be bookmarked or reloaded. replaceState does not fire popstate, so this never
    // loops back through dcc.Location into the tab callback. The active tab is scrolled
    // into the tab strip's view (on a phone the strip scrolls sideways).
    remember: function (activeTab) {
      if (activeTab) {
        const hash = "#" + String(activeTab).replace(/^tab-/, "");
        if (window.location.hash !== hash) {
          window.history.replaceState(null, "", hash);
        }
        window.requestAnimationFrame(function () {
          const link = document.querySelector("#main-tabs .nav-link.active");
          if (link) {
            link.scrollIntoView({ block: "nearest", inline: "nearest" });
          }
        });
      }
      return window.dash_clientside.no_update;
    },
  },
  options: {
    // The Options tab's chart row: the signal chart once a signal is selected, the payoff
    // once the ticket names a contract, and a one-line prompt until either is there.
    chartRow: function (signal, symbol, expiry, strike) {
      const hidden = { display: "none" };
      const chart = signal ? {} : hidden;
      const payoff = symbol && expiry && strike ? {} : hidden;
      const strip = signal || (symbol && expiry && strike) ? hidden : {};
      return [strip, chart, payoff];
    },
  },
});
