// The map's row of days becomes a slider. Without scripts the links work as they are; with
// them, each step repaints the same SVG from /api/v1/status/by-fips as of that day, with the
// classes statusmap.py gives (the slider and the links must show the same map: a browser test
// compares them), and updates the legend's counts, the titles and the address.
(function () {
  "use strict";
  const nav = document.querySelector("nav.steps");
  const svg = document.querySelector("svg.map");
  if (!nav || !svg || !window.fetch || !window.URL) return;
  const links = Array.from(nav.querySelectorAll("a[data-as-of]"));
  if (links.length < 2) return;
  const layer = svg.dataset.layer;
  const view = nav.dataset.view;
  const STATE_LEVEL = new Set(["state", "federal_district", "territory"]);
  // Words and numbers in the page's language: the page gives the words, Intl the formats.
  const lang = document.documentElement.lang || "en";
  const despiteWords = document.querySelector("[data-despite][data-words]");
  const DESPITE = "; " + (despiteWords ? despiteWords.dataset.words : "activated despite opt-out");
  const numbers = new Intl.NumberFormat(lang, { useGrouping: "always" });
  const days = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });

  const labels = {};
  document.querySelectorAll("[data-key][data-label]").forEach(function (el) {
    labels[el.dataset.key] = el.dataset.label;
  });
  const areas = new Map(); // FIPS -> the area's path (each links to /jurisdictions/<FIPS>)
  svg.querySelectorAll("a > path").forEach(function (path) {
    areas.set(path.parentNode.getAttribute("href").split("/").pop(), path);
  });

  function category(row) {
    if (layer === "rollout") return "r-" + row.rollout;
    return (row.effective_status_via === "state" ? "v-" : "s-") + row.effective_status;
  }

  function dayText(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return days.format(new Date(Date.UTC(y, m - 1, d)));
  }

  const fetched = new Map();
  function rowsAsOf(asOf) {
    if (!fetched.has(asOf)) {
      const url = new URL(nav.dataset.fipsUrl, window.location.href);
      url.searchParams.set("as_of", asOf);
      fetched.set(asOf, fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
        if (!r.ok) throw new Error("by-fips answered " + r.status);
        return r.json();
      }));
    }
    return fetched.get(asOf);
  }

  function paint(rows, asOf) {
    let despite = 0;
    rows.forEach(function (row) {
      if (view === "states" && !STATE_LEVEL.has(row.kind)) return;
      const path = areas.get(row.fips);
      if (!path) return;
      const key = category(row);
      path.setAttribute("class", key);
      const title = path.querySelector("title");
      const place = title.textContent.split(": ")[0];
      const extra = layer === "campaign" && row.activated_despite_opt_out ? DESPITE : "";
      title.textContent = place + ": " + labels[key] + extra;
      if (row.activated_despite_opt_out) despite += 1;
    });
    const counts = {};
    svg.querySelectorAll("path:not(.borders)").forEach(function (path) {
      const key = path.getAttribute("class");
      counts[key] = (counts[key] || 0) + 1;
    });
    document.querySelectorAll("[data-key]").forEach(function (el) {
      el.textContent = numbers.format(counts[el.dataset.key] || 0);
    });
    document.querySelectorAll("[data-despite]").forEach(function (el) {
      el.textContent = numbers.format(despite);
    });
    document.querySelectorAll("[data-as-of-label]").forEach(function (el) {
      el.textContent = dayText(asOf);
    });
  }

  const slider = document.createElement("p");
  slider.className = "slider";
  const label = document.createElement("label");
  label.htmlFor = "map-day";
  label.textContent = nav.dataset.dayLabel || "Day";
  const input = document.createElement("input");
  input.type = "range";
  input.id = "map-day";
  input.min = "0";
  input.max = String(links.length - 1);
  input.step = "1";
  const output = document.createElement("output");
  output.htmlFor = "map-day";
  output.setAttribute("aria-live", "polite");
  slider.append(label, input, output);
  nav.insertBefore(slider, nav.querySelector("ol"));

  let shown = links.findIndex(function (a) { return a.hasAttribute("aria-current"); });
  if (shown < 0) shown = links.length - 1;

  function mark(index) {
    links.forEach(function (a, i) {
      if (i === index) a.setAttribute("aria-current", "date");
      else a.removeAttribute("aria-current");
    });
    input.value = String(index);
    output.textContent = links[index].textContent;
    input.setAttribute("aria-valuetext", links[index].textContent);
  }
  mark(shown);

  let wanted = shown;
  function step(index) {
    wanted = index;
    mark(index);
    const link = links[index];
    const asOf = link.dataset.asOf;
    rowsAsOf(asOf).then(function (rows) {
      if (wanted !== index) return; // a later step was asked for meanwhile
      paint(rows, asOf);
      window.history.replaceState(null, "", link.href);
      // The layer and view switches keep the day.
      const day = new URL(link.href).searchParams.get("as_of");
      document.querySelectorAll("nav.switch a").forEach(function (a) {
        const url = new URL(a.href);
        if (day) url.searchParams.set("as_of", day);
        else url.searchParams.delete("as_of");
        a.href = url.pathname + url.search;
      });
      svg.dataset.asOf = asOf;
    }).catch(function () {
      window.location.href = link.href; // the plain link still works
    });
  }

  input.addEventListener("input", function () { step(Number(input.value)); });
  links.forEach(function (a, i) {
    a.addEventListener("click", function (event) {
      if (event.metaKey || event.ctrlKey || event.shiftKey || a.target) return;
      event.preventDefault();
      step(i);
    });
  });
  svg.dataset.asOf = links[shown].dataset.asOf;
})();
