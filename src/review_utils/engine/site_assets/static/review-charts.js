/* Interactive charts: each <div class="review-chart" data-figure="fig-x"> holds a Vega-Lite
   specification (inline JSON, drawn from the figure's own data). This script draws it inside
   figure fig-x, hides the static image (kept for readers without JavaScript and for print),
   and adds the chart's data as a table that keyboard and screen-reader users can open.
   Charts follow the page's light or dark theme. No request leaves the site. */
(function () {
  "use strict";

  function themeConfig() {
    const style = getComputedStyle(document.body);
    const text = style.color;
    const axis = { labelColor: text, titleColor: text, domainColor: text, tickColor: text,
                   gridColor: "rgba(128, 128, 128, 0.35)", labelFontSize: 12, titleFontSize: 12 };
    return { background: null, axis: axis, legend: { labelColor: text, titleColor: text, labelFontSize: 12 },
             title: { color: text }, view: { stroke: null },
             // a real family, not "inherit": Vega measures labels with it to lay the chart out
             font: style.fontFamily };
  }

  function rowsOf(spec) {
    if (spec.data && Array.isArray(spec.data.values)) return spec.data.values;
    return [];
  }

  function dataTable(spec, figure) {
    const columns = (spec.usermeta && spec.usermeta.table) || [];
    const details = document.createElement("details");
    details.className = "review-chart-data";
    const summary = document.createElement("summary");
    summary.textContent = "Show the chart's data as a table";
    details.appendChild(summary);
    const wrapper = document.createElement("div");
    wrapper.className = "review-chart-table";
    const table = document.createElement("table");
    table.className = "table";
    const caption = document.createElement("caption");
    caption.textContent = "Data of " + (figure.querySelector(".caption-number") || { textContent: "the chart" }).textContent.trim();
    table.appendChild(caption);
    const head = table.createTHead().insertRow();
    columns.forEach(function (column) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = column[1];
      head.appendChild(th);
    });
    const body = table.createTBody();
    rowsOf(spec).forEach(function (record) {
      const tr = body.insertRow();
      columns.forEach(function (column) {
        const value = record[column[0]];
        tr.insertCell().textContent = value === null || value === undefined ? "" : String(value);
      });
    });
    wrapper.appendChild(table);
    details.appendChild(wrapper);
    return details;
  }

  const drawn = new Map();  // holder -> vega-embed result
  const widths = new Map();  // holder -> the width its chart was drawn at

  function draw(holder) {
    const figure = document.getElementById(holder.dataset.figure);
    const source = holder.querySelector('script[type="application/json"]');
    if (!figure || !source) return;
    const spec = JSON.parse(source.textContent);
    let view = holder.querySelector(".review-chart-view");
    if (!view) {
      view = document.createElement("div");
      view.className = "review-chart-view";
      holder.appendChild(view);
      holder.appendChild(dataTable(spec, figure));
      figure.insertBefore(holder, figure.querySelector("figcaption"));
    }
    if (drawn.has(holder)) drawn.get(holder).finalize();
    // hide the image first: a figure is as wide as its image, and the chart takes the width it
    // finds when it is drawn ("container")
    figure.classList.add("review-chart-drawing");
    spec.config = Object.assign({}, spec.config || {}, themeConfig());
    const dark = document.documentElement.dataset.theme === "dark";
    return vegaEmbed(view, spec, {
      renderer: "svg",
      // export only: "view source" and "open in editor" would send the reader to another site
      actions: { export: true, source: false, compiled: false, editor: false },
      tooltip: { theme: dark ? "dark" : "light" },
    }).then(function (result) {
      drawn.set(holder, result);
      widths.set(holder, view.clientWidth);
      // the static image (and its alt text) is hidden now: the chart carries the same text
      const svg = view.querySelector("svg");
      if (svg) {
        svg.setAttribute("role", "img");
        svg.setAttribute("aria-label", holder.dataset.summary || "");
      }
      // vega-embed's menu button is an icon only: give it a name screen readers can say
      const menu = view.querySelector("details > summary");
      if (menu) menu.setAttribute("aria-label", "Save the chart as an image (SVG or PNG)");
      figure.classList.add("review-chart-drawn");
      holder.dataset.state = "drawn";
    }).catch(function (error) {
      figure.classList.remove("review-chart-drawing");
      holder.dataset.state = "failed";  // the static image stays
      console.warn("chart " + holder.dataset.figure + " could not be drawn: " + error);
    });
  }

  function drawAll() {
    document.querySelectorAll("div.review-chart").forEach(draw);
  }

  drawAll();
  new MutationObserver(function (changes) {
    if (changes.some(function (c) { return c.attributeName === "data-theme"; })) drawAll();
  }).observe(document.documentElement, { attributes: true });
  // the page's layout can still settle after drawing (fonts, the sidebar): a chart whose space
  // changed width is drawn again for the width it has now
  const resized = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      const holder = entry.target.closest("div.review-chart");
      if (holder && drawn.has(holder) && Math.abs(entry.target.clientWidth - (widths.get(holder) || 0)) > 1) {
        widths.set(holder, entry.target.clientWidth);
        draw(holder);
      }
    });
  });
  document.querySelectorAll("div.review-chart").forEach(function (holder) {
    const view = holder.querySelector(".review-chart-view");
    if (view) resized.observe(view);
  });
})();
