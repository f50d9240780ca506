// The page's first script, in its head (app.TabPagesDash; not among the page's other
// assets). An older address (/#risk) moves onto the path, then the page preloads its
// layout and callback graph, so the server builds them (with the tab's first state)
// while the other scripts load; dash-renderer's own fetches take the preloaded answers.
// The preloads go out after the move, so the layout request's Referer names the tab.
//
// A tab's address is its path (/risk): the server mounts that tab in the first layout,
// reading the page's address from the layout request's Referer. The address's last
// segment is the tab, so the base is everything up to the last "/". 20-tabs.js uses this
// for tab switches too.
window.dashboardTabAddress = function (tab) {
  const path = window.location.pathname;
  return path.slice(0, path.lastIndexOf("/") + 1) + tab + window.location.search;
};

(function () {
  const named = /^#([a-z]+)$/i.exec(window.location.hash);
  if (named) {
    window.history.replaceState(null, "", window.dashboardTabAddress(named[1].toLowerCase()));
  }
  const prefix = document.currentScript.dataset.prefix;
  for (const resource of ["_dash-layout", "_dash-dependencies"]) {
    const link = document.createElement("link");
    link.rel = "preload";
    link.as = "fetch";
    link.crossOrigin = "anonymous"; // a CORS-mode fetch, as dash-renderer's is
    link.href = prefix + resource;
    document.head.appendChild(link);
  }
})();
