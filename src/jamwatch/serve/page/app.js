// jamwatch map page: draws cells.js and events.js over basemap.js with deck.gl; computes
// nothing itself (the 95 % circles and the windows each event overlaps come in events.js).
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

  // events of jamwatch detect: one record per drawn shape, pointing back to its event
  const EVENTS = window.JAMWATCH_EVENTS || [];
  const shapes = { areas: [], circles: [], sources: [], fakes: [] };
  EVENTS.forEach((ev) => {
    (ev.area || []).forEach((poly) => shapes.areas.push({ ev, p: poly }));
    (ev.src || []).forEach((s, j) => {
      const primary = j === ev.p;
      shapes.circles.push({ ev, p: s.c, primary });
      shapes.sources.push({ ev, p: [s.x, s.y], primary });
    });
    if (ev.fp) shapes.fakes.push({ ev, p: [ev.fp.x, ev.fp.y] });
  });
  let selected = null;
  // ships' tracks (ships.js): runs of positions per ship and window, spoofed (s = 1) or not
  const SHIP_COLORS = [[70, 90, 110, 170], [231, 41, 138, 230]];
  const shipsByWindow = DATA.windows.map(() => []);
  (window.JAMWATCH_SHIPS || []).forEach((t) => {
    t.c = SHIP_COLORS[t.s] || SHIP_COLORS[0];
    if (shipsByWindow[t.w]) shipsByWindow[t.w].push(t);
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
  // the live map (jamwatch watch's /map/) shows the latest window unless another was chosen
  // ("a=last" in the address keeps it the latest across reloads), and reloads itself
  const LIVE = DATA.live_s || 0;
  const last = DATA.windows.length - 1;
  const state = {
    a: hash.has("a") && hash.get("a") !== "last" ? Number(hash.get("a")) : LIVE ? last : busiest,
    b: hash.has("b") && hash.get("b") !== "" ? Number(hash.get("b")) : null,
  };
  if (hash.has("e") && EVENTS[Number(hash.get("e"))]) selected = Number(hash.get("e"));
  const marks = shapes.sources.concat(shapes.fakes).map((d) => ({ x: d.p[0], y: d.p[1] }));
  const fitted = fit((byWindow[state.a] || []).length ? byWindow[state.a] : marks);
  let view = {
    longitude: hash.has("lon") ? Number(hash.get("lon")) : fitted.longitude,
    latitude: hash.has("lat") ? Number(hash.get("lat")) : fitted.latitude,
    zoom: hash.has("z") ? Number(hash.get("z")) : fitted.zoom,
    pitch: 0, bearing: 0,
  };

  function saveHash() {
    const a = LIVE && state.a === last ? "last" : state.a;
    const p = new URLSearchParams({ lat: view.latitude.toFixed(4), lon: view.longitude.toFixed(4),
                                    z: view.zoom.toFixed(2), a, b: state.b ?? "" });
    if (selected !== null) p.set("e", selected);
    history.replaceState(null, "", "#" + p.toString());
  }

  // an event is emphasised where its time overlaps the map's window (or when there are none)
  function inWindow(ev, k) { return !DATA.windows.length || ev.w.includes(k); }

  // colours of the event shapes for window k, as record fields read by the layers ("@@=c")
  function paint(k) {
    const alpha = (ev, on, off) => (inWindow(ev, k) ? on : off);
    const blue = (d, rgb) => (d.ev.i === selected ? [30, 90, 220] : rgb);
    return {
      areas: shapes.areas.map((d) => ({ ...d, f: [...blue(d, [123, 50, 148]), alpha(d.ev, 60, 15)],
        c: [...blue(d, [123, 50, 148]), alpha(d.ev, 230, 70)] })),
      circles: shapes.circles.map((d) => ({ ...d,
        c: [...blue(d, [17, 17, 17]), alpha(d.ev, d.primary ? 230 : 140, 50)] })),
      sources: shapes.sources.map((d) => ({ ...d, r: d.ev.i === selected ? 9 : 6,
        c: [...blue(d, [17, 17, 17]), alpha(d.ev, 255, 90)] })),
      fakes: shapes.fakes.map((d) => ({ ...d, r: d.ev.i === selected ? 9 : 6,
        c: [...blue(d, [231, 41, 138]), alpha(d.ev, 255, 90)] })),
    };
  }

  function eventLayers(k, id) {
    const c = paint(k);
    return [
      { "@@type": "PolygonLayer", id: "ev-areas-" + id, data: c.areas, getPolygon: "@@=p",
        getFillColor: "@@=f", getLineColor: "@@=c", lineWidthMinPixels: 1.5, stroked: true,
        filled: true },
      { "@@type": "PolygonLayer", id: "ev-circles-" + id, data: c.circles, getPolygon: "@@=p",
        filled: false, stroked: true, getLineColor: "@@=c", lineWidthMinPixels: 2 },
      { "@@type": "ScatterplotLayer", id: "ev-sources-" + id, data: c.sources, pickable: true,
        getPosition: "@@=p", getFillColor: "@@=c", getRadius: "@@=r", radiusUnits: "pixels",
        stroked: true, getLineColor: [255, 255, 255], lineWidthMinPixels: 2 },
      { "@@type": "ScatterplotLayer", id: "ev-fakes-" + id, data: c.fakes, pickable: true,
        getPosition: "@@=p", getFillColor: "@@=c", getRadius: "@@=r", radiusUnits: "pixels",
        stroked: true, getLineColor: [255, 255, 255], lineWidthMinPixels: 1 },
    ];
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
        { "@@type": "PathLayer", id: "ships-" + id, data: shipsByWindow[k] || [], pickable: true,
          getPath: "@@=p", getColor: "@@=c", widthUnits: "pixels", getWidth: 1.5 },
        ...eventLayers(k, id),
      ],
    };
  }

  function tooltip(info) {
    const d = info.object;
    if (!d) return null;
    if (d.ev) return { text: eventTitle(d.ev) + "\n" + eventDetail(d.ev) };
    if (d.m != null) return { text: "ship " + d.m + (d.s ? " (spoofed positions)" : "") };
    const ships = d.vg == null || d.vg + d.vb === 0 ? "" : "\nships: good " + d.vg + ", bad " + d.vb;
    return { text: d.h + "\ngood " + d.g + ", bad " + d.b + (d.s == null ? "" : ", " + d.s + " %") + ships };
  }

  function showInfo(info, k) {
    const d = info.object;
    const panel = document.getElementById("info");
    if (!d) { panel.classList.add("hidden"); return; }
    const row = (n, v) => "<tr><td>" + n + "</td><td>" + (v == null ? "n/a" : v) + "</td></tr>";
    panel.innerHTML = "<b>" + d.h + "</b><br>" + label(k) + "<table>" +
      row("good aircraft", d.g) + row("bad aircraft", d.b) + row("faulty avionics", d.f) +
      row("score", d.s == null ? null : d.s + " %") + row("class", d.l) +
      row("NIC &lt; 7", d.n == null ? null : d.n + " %") + row("reports", d.r) +
      (d.vg == null ? "" : row("good ships", d.vg) + row("bad ships", d.vb)) + "</table>" +
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
      onClick: (info) => {
        if (info.object && info.object.ev) select(info.object.ev.i, false);
        else showInfo(info, windowOf(id));
      },
      onViewStateChange: ({ viewState }) => {
        view = viewState;
        Object.values(decks).forEach((d) => d.setProps({ viewState: view }));
        saveHash();
      },
    });
    shown[id] = k;
    return instance;
  }

  // a new window or selection: the same layers, cloned with that window's records and colours
  function show(id, force) {
    const k = windowOf(id);
    if (shown[id] === k && !force) return;
    const c = paint(k);
    const data = { ["cells-" + id]: byWindow[k] || [], ["ev-areas-" + id]: c.areas,
      ["ev-circles-" + id]: c.circles, ["ev-sources-" + id]: c.sources, ["ev-fakes-" + id]: c.fakes };
    const layers = decks[id].props.layers.map((layer) =>
      layer.id in data ? layer.clone({ data: data[layer.id] }) : layer);
    decks[id].setProps({ layers });
    shown[id] = k;
  }

  // ---- the events panel
  const fmt = (v, n) => Number(v).toFixed(n);
  function when(ev) {
    const s = ev.s.replace("T", " ").replace("Z", "");
    const e = ev.e.replace("T", " ").replace("Z", "");
    return s + " \u2013 " + (e.slice(0, 10) === s.slice(0, 10) ? e.slice(11) : e) + " UTC";
  }
  function eventTitle(ev) {
    return (ev.k === "jamming" ? "Jamming" : "Spoofing " + (ev.icao || "ship " + ev.mmsi)) + ", " + when(ev);
  }
  function eventDetail(ev) {
    const n = ev.n + " aircraft";
    if (ev.k === "spoofing") {
      return n + "; false position " +
        (ev.fp ? fmt(ev.fp.y, 4) + ", " + fmt(ev.fp.x, 4) : "none (frozen or scattered)");
    }
    const src = (s) => fmt(s.y, 4) + ", " + fmt(s.x, 4) + " \u00b1 " + fmt(s.r, 1) + " km";
    const main = ev.p === null ? "not located" : src(ev.src[ev.p]);
    const more = ev.src.filter((_, j) => j !== ev.p).map(src);
    return n + "; source " + main + (more.length ? "; also " + more.join("; ") : "");
  }

  function listEvents() {
    const list = document.getElementById("events-list");
    document.getElementById("events").classList.toggle("hidden", !EVENTS.length);
    document.getElementById("legend-events").classList.toggle("hidden", !EVENTS.length);
    document.getElementById("events-count").textContent = "(" + EVENTS.length + ")";
    EVENTS.forEach((ev) => {
      const item = document.createElement("div");
      item.className = "event " + ev.k;
      item.dataset.i = ev.i;
      const title = document.createElement("div");
      title.textContent = eventTitle(ev);
      const detail = document.createElement("div");
      detail.className = "detail";
      detail.textContent = eventDetail(ev);
      item.append(title, detail);
      item.title = ev.a.join(" ") + (ev.a.length < ev.n ? " ..." : "");
      item.onclick = () => select(ev.i, true);
      list.append(item);
    });
  }

  function markEvents() {
    document.querySelectorAll("#events-list .event").forEach((item) => {
      const ev = EVENTS[Number(item.dataset.i)];
      item.classList.toggle("current", inWindow(ev, state.a));
      item.classList.toggle("selected", ev.i === selected);
    });
  }

  // where to look at an event: its main source (or false point, or area), zoomed to its shapes
  function target(ev) {
    const pts = [];
    (ev.area || []).forEach((poly) => poly[0].forEach((q) => pts.push(q)));
    (ev.src || []).forEach((s) => s.c.forEach((q) => pts.push(q)));
    if (ev.fp) pts.push([ev.fp.x, ev.fp.y]);
    if (!pts.length) return null;
    const lons = pts.map((q) => q[0]), lats = pts.map((q) => q[1]);
    let centre = [(Math.min(...lons) + Math.max(...lons)) / 2,
                  (Math.min(...lats) + Math.max(...lats)) / 2];
    if (ev.p !== null && ev.p !== undefined) centre = [ev.src[ev.p].x, ev.src[ev.p].y];
    else if (ev.fp) centre = [ev.fp.x, ev.fp.y];
    const cos = Math.cos((centre[1] * Math.PI) / 180);
    const span = 2 * Math.max(0.02, ...pts.map((q) =>
      Math.max(Math.abs(q[1] - centre[1]), (Math.abs(q[0] - centre[0]) * cos) / 1.6)));
    return { longitude: centre[0], latitude: centre[1],
             zoom: Math.max(2, Math.min(12, Math.log2(360 / span) - 1.2)) };
  }

  let flight = null;
  function setView(v) {
    view = { ...view, ...v };
    Object.values(decks).forEach((d) => d.setProps({ viewState: view }));
    saveHash();
  }
  function flyTo(to) {
    if (flight) cancelAnimationFrame(flight);
    const from = { longitude: view.longitude, latitude: view.latitude, zoom: view.zoom };
    const t0 = performance.now();
    const step = (now) => {
      const t = Math.min(1, (now - t0) / 700);
      const u = t < 0.5 ? 2 * t * t : 1 - 2 * (1 - t) * (1 - t);
      setView({ longitude: from.longitude + (to.longitude - from.longitude) * u,
                latitude: from.latitude + (to.latitude - from.latitude) * u,
                zoom: from.zoom + (to.zoom - from.zoom) * u });
      flight = t < 1 ? requestAnimationFrame(step) : null;
    };
    flight = requestAnimationFrame(step);
  }

  function select(i, fly) {
    selected = i;
    Object.keys(decks).forEach((id) => show(id, true));
    markEvents();
    const item = document.querySelector('#events-list .event[data-i="' + i + '"]');
    if (item) item.scrollIntoView({ block: "nearest" });
    const to = target(EVENTS[i]);
    if (fly && to) flyTo(to);
    saveHash();
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
    const now = EVENTS.filter((ev) => inWindow(ev, state.a)).length;
    document.getElementById("summary").textContent = cells.length + " cells, " + red + " red" +
      (EVENTS.length ? "; " + now + " of " + EVENTS.length + " events in this window" : "") +
      (LIVE ? "; live, reloaded every " + LIVE + " s" : "");
    markEvents();
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
  listEvents();
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
    events: EVENTS.length,
    selected: () => selected,
    view: () => ({ latitude: view.latitude, longitude: view.longitude, zoom: view.zoom }),
    moving: () => flight !== null,
    // screen position of a lon/lat on map a, and the event shapes picked there
    screenOfPoint(lon, lat) {
      const [x, y] = decks.a.getViewports()[0].project([lon, lat]);
      const r = document.getElementById("map-a").getBoundingClientRect();
      return [x + r.left, y + r.top];
    },
    pickEvent(x, y, layer) {
      const r = document.getElementById("map-a").getBoundingClientRect();
      const hit = decks.a.pickObject({ x: x - r.left, y: y - r.top, radius: 2,
                                       layerIds: ["ev-" + layer + "-a"] });
      return hit && hit.object ? hit.object.ev.i : null;
    },
    screenOf(hex) {
      const c = DATA.cells.find((d) => d.h === hex);
      const [x, y] = decks.a.getViewports()[0].project([c.x, c.y]);
      const r = document.getElementById("map-a").getBoundingClientRect();
      return [x + r.left, y + r.top];
    },
  };
  if (LIVE) setTimeout(() => location.reload(), LIVE * 1000);
})();
