// AG Grid themes made once per parameter set (components/ui.py grid_theme). dash-ag-grid
// evaluates a grid's theme on every render of the grid, and each new theme object makes
// AG Grid process and inject the theme's CSS again; one object per set does it once.
(function () {
  const made = new Map();
  window.dashAgGridFunctions = Object.assign(window.dashAgGridFunctions || {}, {
    sharedTheme: function (base, params) {
      const key = JSON.stringify(params);
      if (!made.has(key)) {
        made.set(key, base.withParams(params));
      }
      return made.get(key);
    },
  });
})();
