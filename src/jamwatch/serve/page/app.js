// jamwatch map page: draws cells.js over basemap.js with deck.gl; computes nothing itself.
// deck.gl comes from pydeck's bundle (pydeck.js), which defines createDeck(): it builds a Deck
// from a JSON description through deck.gl's JSON converter.
(function () {
  "use strict";
  const DATA = window.JAMWATCH_DATA;
  const COLORS = { green: [46, 158, 68, 170], yellow: [232, 194, 26, 210], red: [215, 48, 31, 230] };
  const NO_CLASS = [150, 150, 150, 120];
  const byWindow = DATA.windows.map(() => []);
  DATA.cells.forEach((c) => {
    c.c = COLORS[c.l] || NO_CLASS;
    byWindow[c.w].push(c);
  });

  function label(k) {
    const w = DATA.windows[k];
    if (!w) return "";
    const s = w.seconds;
    const span = s % 86400 === 0 ? s / 86400 + " d" : s % 3600 === 0 ? s / 3600 + " h" : s + " s";
    return w.start.replace("T", " ").replace(":00Z", " UTC") + " (" + span + ")";
  }

  // cell centres (y = latitude, x = longitude) are written by jamwatch into cells.js
  function fit(list) {
    if (!list.length) return { longitude: 0, latitude: 30, zoom: 1 };
    let lat0 = 90, lat1 = -90, lon0 = 180, lon1 = -180;
    list.forEach((c) => {
      lat0 = Math.min(lat0, c.y); lat1 = Math.max(lat1, c.y);
      lon0 = Math.min(lon0, c.x); lon1 = Math.max(lon1, c.x);
    });
    const span = Math.max(lat1 - lat0, (lon1 - lon0) / 2, 1);
    return { latitude: (lat0 + lat1) / 2, longitude: (lon0 + lon1) / 2,
             zoom: Math.max(0.5, Math.min(9, Math.log2(180 / span))) };
  }

  const hash = new URLSearchParams(location.hash.slice(1));
  let busiest = 0;
  byWindow.forEach((l, k) => { if (l.length > byWindow[busiest].length) busiest = k; });
  const state = {
    a: hash.has("a") ? Number(hash.get("a")) : busiest,
    b: hash.has("b") && hash.get("b") !== "" ? Number(hash.get("b")) : null,
  };
  const fitted = fit(byWindow[state.a] || []);
  let view = {
    longitude: hash.has("lon") ? Number(hash.get("lon")) : fitted.longitude,
    latitude: hash.has("lat") ? Number(hash.get("lat")) : fitted.latitude,
    zoom: hash.has("z") ? Number(hash.get("z")) : fitted.zoom,
    pitch: 0, bearing: 0,
  };

  function saveHash() {
    const p = new URLSearchParams({ lat: view.latitude.toFixed(4), lon: view.longitude.toFixed(4),
                                    z: view.zoom.toFixed(2), a: state.a, b: state.b ?? "" });
    history.replaceState(null, "", "#" + p.toString());
  }

  // the map as deck.gl JSON: "@@type" names a layer class, "@@=name" reads a record's field
  function description(k, id) {
    return {
      initialViewState: view,
      views: [{ "@@type": "MapView", controller: true, repeat: true }],
      layers: [
        { "@@type": "GeoJsonLayer", id: "basemap-" + id, data: window.JAMWATCH_BASEMAP,
          filled: true, stroked: true, getFillColor: [244, 242, 236], getLineColor: [130, 130, 130],
          lineWidthMinPixels: 0.5 },
        { "@@type": "H3HexagonLayer", id: "cells-" + id, data: byWindow[k] || [], pickable: true,
          extruded: false, stroked: true, getHexagon: "@@=h", getFillColor: "@@=c",
          getLineColor: [60, 60, 60, 90], lineWidthMinPixels: 0.3, autoHighlight: true,
          highlightColor: [30, 60, 200, 120] },
      ],
    };
  }

  function tooltip(info) {
    const d = info.object;
    if (!d) return null;
    return { text: d.h + "\ngood " + d.g + ", bad " + d.b + (d.s == null ? "" : ", " + d.s + " %") };
  }

  function showInfo(info, k) {
    const d = info.object;
    const panel = document.getElementById("info");
    if (!d) { panel.classList.add("hidden"); return; }
    const row = (n, v) => "<tr><td>" + n + "</td><td>" + (v == null ? "n/a" : v) + "</td></tr>";
    panel.innerHTML = "<b>" + d.h + "</b><br>" + label(k) + "<table>" +
      row("good aircraft", d.g) + row("bad aircraft", d.b) + row("faulty avionics", d.f) +
      row("score", d.s == null ? null : d.s + " %") + row("class", d.l) +
      row("NIC &lt; 7", d.n == null ? null : d.n + " %") + row("reports", d.r) + "</table>" +
      "<div>aircraft (* bad):</div><div class='aircraft'>" + d.a.join(" ") + "</div>";
    panel.classList.remove("hidden");
  }

  const decks = {};
  const shown = {};
  function windowOf(id) { return id === "a" ? state.a : state.b; }

  function make(id) {
    const k = windowOf(id);
    const instance = createDeck({
      container: document.getElementById("map-" + id),
      jsonInput: description(k, id),
      tooltip: null,
    });
    instance.setProps({
      viewState: view,
      getTooltip: tooltip,
      onClick: (info) => showInfo(info, windowOf(id)),
      onViewStateChange: ({ viewState }) => {
        view = viewState;
        Object.values(decks).forEach((d) => d.setProps({ viewState: view }));
        saveHash();
      },
    });
    shown[id] = k;
    return instance;
  }

  // a new window: the same cells layer, cloned with that window's records
  function show(id) {
    const k = windowOf(id);
    if (shown[id] === k) return;
    const layers = decks[id].props.layers.map((layer) =>
      layer.id === "cells-" + id ? layer.clone({ data: byWindow[k] || [] }) : layer);
    decks[id].setProps({ layers });
    shown[id] = k;
  }

  function refresh() {
    document.getElementById("map-b").classList.toggle("hidden", state.b === null);
    if (state.b !== null) {
      if (!decks.b) decks.b = make("b");
      else show("b");
    }
    show("a");
    document.getElementById("tag-a").textContent = label(state.a);
    document.getElementById("tag-b").textContent = state.b === null ? "" : label(state.b);
    const cells = byWindow[state.a] || [];
    const red = cells.filter((c) => c.l === "red").length;
    document.getElementById("summary").textContent = cells.length + " cells, " + red + " red";
    saveHash();
  }

  const selA = document.getElementById("win-a");
  const selB = document.getElementById("win-b");
  DATA.windows.forEach((w, k) => {
    selA.add(new Option(label(k), k));
    selB.add(new Option(label(k), k));
  });
  selA.value = state.a;
  selB.value = state.b ?? "";
  selA.onchange = () => { state.a = Number(selA.value); refresh(); };
  selB.onchange = () => { state.b = selB.value === "" ? null : Number(selB.value); refresh(); };
  document.getElementById("attribution").textContent = DATA.attribution;
  decks.a = make("a");
  refresh();

  // for tests and scripts: what is drawn, and where a cell is on screen
  window.jamwatch = {
    decks, state, windows: DATA.windows.length,
    cellsDrawn(id = "a") {
      const el = document.getElementById("map-" + id);
      if (!decks[id] || !el.clientWidth) return 0;
      const picked = decks[id].pickObjects({ x: 0, y: 0, width: el.clientWidth,
        height: el.clientHeight, layerIds: ["cells-" + id], maxObjects: 1000000 });
      return new Set(picked.map((p) => p.object.h)).size;
    },
    cellsInWindow() { return (byWindow[state.a] || []).length; },
    screenOf(hex) {
      const c = DATA.cells.find((d) => d.h === hex);
      const [x, y] = decks.a.getViewports()[0].project([c.x, c.y]);
      const r = document.getElementById("map-a").getBoundingClientRect();
      return [x + r.left, y + r.top];
    },
  };
})();
