// Keeps the address bar's hash on the visible tab (#regime, #options, ...), so a tab can
// be bookmarked or reloaded. replaceState does not fire popstate, so this never loops
// back through dcc.Location into the tab callback.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  tabs: {
    remember: function (activeTab) {
      if (activeTab) {
        const hash = "#" + String(activeTab).replace(/^tab-/, "");
        if (window.location.hash !== hash) {
          window.history.replaceState(null, "", hash);
        }
      }
      return window.dash_clientside.no_update;
    },
  },
});
