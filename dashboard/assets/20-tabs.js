// Clientside callbacks: no server round trip for what the browser already knows.

// A tab's address (/risk), and the move of an older /#risk onto the path: first-requests.js,
// the page's first script.
const tabAddress = window.dashboardTabAddress;

// A grid as a list of cards, for phones (the CSS shows the list below 576 px and hides the
// grid). Built from the grid's own API: its displayed columns (header names), its rows
// in their sorted and filtered order, and its formatters; tapping a card selects that row
// in the grid, which reports it to Dash like a click would.
const cardGrids = new WeakSet(); // grid APIs whose changes already redraw their cards

async function watchGridCards(gridId) {
  if (!document.getElementById(gridId) || !window.dash_ag_grid) {
    return;
  }
  const api = await window.dash_ag_grid.getApiAsync(gridId);
  if (!cardGrids.has(api)) {
    cardGrids.add(api);
    const redraw = function () {
      drawGridCards(gridId, api);
    };
    api.addEventListener("modelUpdated", redraw);
    api.addEventListener("selectionChanged", redraw);
  }
  drawGridCards(gridId, api);
}

function drawGridCards(gridId, api) {
  const grid = document.getElementById(gridId);
  if (!grid) {
    return;
  }
  let list = document.querySelector('.grid-cards[data-grid="' + gridId + '"]');
  if (!list) {
    list = document.createElement("div");
    list.className = "grid-cards";
    list.dataset.grid = gridId;
    list.setAttribute("role", "list");
    grid.insertAdjacentElement("afterend", list);
  }
  const columns = api.getAllDisplayedColumns();
  const cards = [];
  api.forEachNodeAfterFilterAndSort(function (node) {
    const card = document.createElement("button");
    card.type = "button";
    card.className = "grid-card" + (node.isSelected() ? " selected" : "");
    card.setAttribute("role", "listitem");
    card.dataset.rowId = node.id;  // the row's id, as the grid's row-id attribute
    columns.forEach(function (col, i) {
      const value = api.getCellValue({ rowNode: node, colKey: col, useFormatter: true });
      const text = value == null ? "" : String(value);
      if (i === 0) {
        const title = document.createElement("span");
        title.className = "grid-card-title";
        title.textContent = text;
        card.appendChild(title);
        return;
      }
      if (text === "") {
        return;
      }
      const field = document.createElement("span");
      field.className = "grid-card-field";
      const label = document.createElement("span");
      label.className = "grid-card-label";
      label.textContent = col.getColDef().headerName || col.getColId();
      field.appendChild(label);
      field.appendChild(document.createTextNode(text));
      card.appendChild(field);
    });
    card.addEventListener("click", function () {
      node.setSelected(true, true);
    });
    cards.push(card);
  });
  list.replaceChildren.apply(list, cards);
}

// The option chain scrolls its ticket's contract (else the strike nearest spot) into the
// middle of the grid when the chain or the contract changes; a refresh of the same chain
// keeps the user's scroll. Done here, after the grid has the rows: a scrollTo sent with
// the same rowData can land before the rows exist and be lost.
let chainScrolledTo = null;

function scrollChain(gridId, rows) {
  const target = rows.find(function (r) { return r.ticket; }) || rows.find(function (r) { return r.atm; });
  if (!target || !window.dash_ag_grid) {
    return;
  }
  const first = rows[0].c_symbol || rows[0].p_symbol || "";
  const key = [first.slice(0, -9), target.strike_key, target.ticket || ""].join("|");
  if (key === chainScrolledTo) {
    return;
  }
  window.dash_ag_grid.getApiAsync(gridId).then(function (api) {
    let tries = 0;
    const attempt = function () {
      const node = api.getRowNode(target.strike_key);
      if (node && (node.data.ticket || null) === (target.ticket || null)) {
        api.ensureNodeVisible(node, "middle");
        chainScrolledTo = key;
      } else if (tries++ < 40) {
        setTimeout(attempt, 100);
      }
    };
    attempt();
  });
}

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  charts: {
    // A chart's zoom, kept in a store by the figure's uirevision: the axis ranges the
    // trader set, cleared by a reset (autorange). Its callback puts them back into the
    // next refresh's figure (figures.apply_zoom): dcc.Graph redraws with its own copy of
    // the layout after each zoom, which drops plotly's memory of it, so uirevision alone
    // lost the zoom at the next interval refresh.
    keepZoom: function (relayout, figure, kept) {
      const noUpdate = window.dash_clientside.no_update;
      if (!relayout) {
        return noUpdate;
      }
      const rev = figure && figure.layout ? figure.layout.uirevision : null;
      const ranges = kept && kept.rev === rev ? Object.assign({}, kept.ranges) : {};
      let changed = false;
      for (const [key, value] of Object.entries(relayout)) {
        let m = key.match(/^([xy]axis[0-9]*)\.range\[([01])\]$/);
        if (m) {
          const pair = (ranges[m[1]] || [null, null]).slice();
          pair[Number(m[2])] = value;
          ranges[m[1]] = pair;
          changed = true;
          continue;
        }
        m = key.match(/^([xy]axis[0-9]*)\.range$/);
        if (m && Array.isArray(value)) {
          ranges[m[1]] = value.slice(0, 2);
          changed = true;
          continue;
        }
        m = key.match(/^([xy]axis[0-9]*)\.autorange$/);
        if (m && value) {
          delete ranges[m[1]];
          changed = true;
        }
      }
      return changed ? { rev: rev, ranges: ranges } : noUpdate;
    },
  },
  tabs: {
    // A tab named by a hash typed on an open page ("#risk" -> "tab-risk"). Unknown names
    // change nothing.
    fromHash: function (hash) {
      const tab = String(hash || "").replace(/^#/, "").trim().toLowerCase();
      if (/^[a-z]+$/.test(tab) && document.getElementById("tab-" + tab + "-tab")) {
        return "tab-" + tab;
      }
      return window.dash_clientside.no_update;
    },
    // Keeps the address on the visible tab (/regime, /options, ...), so a tab can be
    // bookmarked or reloaded. replaceState does not fire popstate, so this never loops
    // back through dcc.Location into the tab callback. The active tab is scrolled into
    // the tab strip's view (on a phone the strip scrolls sideways).
    remember: function (activeTab) {
      if (activeTab) {
        const address = tabAddress(String(activeTab).replace(/^tab-/, ""));
        if (window.location.pathname + window.location.search + window.location.hash !== address) {
          window.history.replaceState(null, "", address);
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
  watchlist: {
    // A chip's remove button, clicked: {symbol, at} for the server's edit callback. Chips
    // drawn anew (their buttons at 0 clicks) answer nothing, here in the browser, instead
    // of a request to the server each time.
    removed: function (clicks) {
      const cc = window.dash_clientside.callback_context;
      const id = cc.triggered_id;
      if (!id || !id.symbol || !cc.triggered.some((t) => t.value)) {
        return window.dash_clientside.no_update;
      }
      return { symbol: id.symbol, at: Date.now() };
    },
  },
  options: {
    chainScroll: function (rows) {
      if (rows && rows.length) {
        scrollChain("options-chain-grid", rows);
      }
      return window.dash_clientside.no_update;
    },
    signalCards: function () {
      watchGridCards("options-signals-grid");
      return window.dash_clientside.no_update;
    },
    // The Options tab's chart row: the signal chart once a signal is selected, the payoff
    // once the ticket names a contract, and a one-line prompt until either is there. The
    // first time a chart is shown, its "-seen" store mounts its card (ui.shown_block).
    chartRow: function (signal, symbol, expiry, strike, chartSeen, payoffSeen) {
      const hidden = { display: "none" };
      const contract = Boolean(symbol && expiry && strike);
      const mount = function (show, seen) {
        return show && !seen ? true : window.dash_clientside.no_update;
      };
      return [
        signal || contract ? hidden : {},
        signal ? {} : hidden,
        contract ? {} : hidden,
        mount(Boolean(signal), chartSeen),
        mount(contract, payoffSeen),
      ];
    },
  },
});

// Blocks below the fold (components/ui.py lazy_block) ask the server for their content
// once they come within 200 px of the viewport; a hidden tab's never do. One watcher for
// the page, not a callback per block: each callback a load runs costs a round of store
// updates across every mounted component. Watching a block starts at the page's first
// scroll (not a grid's or the tab strip's, which scroll as they draw), or 1.5 s after it
// appears: while a tab mounts, its charts and grids are briefly 0 px tall and everything
// looks near.
(function () {
  const watched = new WeakSet();
  const mount = function (el) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(el.id + "-seen", { data: true });
    }
  };
  const observe = function (el) {
    if (!("IntersectionObserver" in window)) {
      mount(el);
      return;
    }
    const io = new IntersectionObserver(
      function (entries) {
        if (entries.some((e) => e.isIntersecting)) {
          io.disconnect();
          mount(el);
        }
      },
      { rootMargin: "200px 0px" },
    );
    io.observe(el);
  };
  const watch = function (el) {
    watched.add(el);
    let armed = false;
    const arm = function (e) {
      const t = e && e.target;
      if (t && t !== document && t !== document.scrollingElement) {
        return;
      }
      if (!armed) {
        armed = true;
        window.removeEventListener("scroll", arm, true);
        observe(el);
      }
    };
    window.addEventListener("scroll", arm, { capture: true, passive: true });
    setTimeout(arm, 1500);
  };
  let queued = false;
  const scan = function () {
    queued = false;
    for (const el of document.querySelectorAll(".lazy-block[id]")) {
      if (!watched.has(el)) {
        watch(el);
      }
    }
  };
  const start = function () {
    new MutationObserver(function () {
      if (!queued) {
        queued = true;
        setTimeout(scan, 100);
      }
    }).observe(document.body, { childList: true, subtree: true });
    scan();
  };
  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
