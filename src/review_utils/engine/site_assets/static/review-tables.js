/* Tables that fit, and long tables readers can sort and filter.
 *
 * Every page with a table loads this script. It
 *  - marks each table's scrolling box (the theme's div.pst-scrollable-table-container) when the
 *    table is wider than the page: the box then shows a shadow at the edge that hides columns and
 *    a "scroll sideways" hint (review-tables.css), and can be scrolled with the keyboard;
 *  - on tables marked review-sortable (long ones, see render/markup.py table_classes), and only
 *    where the page also loads simple-datatables, sorts by a click on a header and adds a text
 *    filter and, for each column marked review-filter-col-N, a select menu of that column's
 *    values. Filters combine (a row must pass all). No paging: every row stays on the page, so
 *    the browser's own find (Ctrl+F) still finds it once the filters are cleared.
 * The caption, the table's id (links from the text land on it) and the header cells (<th>) are
 * kept; nothing is fetched from anywhere.
 */
(function () {
  "use strict";

  var BOX = "div.pst-scrollable-table-container";

  function captionText(table) {
    var caption = table.querySelector("caption");
    if (!caption) return "Table";
    var clone = caption.cloneNode(true);
    clone.querySelectorAll("a.headerlink").forEach(function (a) { a.remove(); });
    return clone.textContent.replace(/\s+/g, " ").trim();
  }

  /* ---------- fit: the overflow cue ---------- */

  // div.review-table-fit (marked when the table overflows) > p.review-table-hint
  //   + div.review-table-frame (carries the edge shadow) > the theme's scrolling box
  function fitOf(box) {
    var frame = box.parentElement;
    if (frame && frame.classList.contains("review-table-frame")) return frame.parentElement;
    var fit = document.createElement("div");
    fit.className = "review-table-fit";
    frame = document.createElement("div");
    frame.className = "review-table-frame";
    box.parentNode.insertBefore(fit, box);
    var hint = document.createElement("p");
    hint.className = "review-table-hint";
    hint.setAttribute("aria-hidden", "true");  // a cue for the eye; the table itself is complete
    hint.textContent = "Wider than the page: scroll the table sideways for more columns \u2192";
    fit.appendChild(hint);
    fit.appendChild(frame);
    frame.appendChild(box);
    return fit;
  }

  function update(box) {
    var frame = box.parentElement.parentElement;  // the div.review-table-fit
    var overflows = box.scrollWidth > box.clientWidth + 1;
    frame.classList.toggle("review-table-overflows", overflows);
    frame.classList.toggle("review-table-scrolled", overflows && box.scrollLeft > 1);
    frame.classList.toggle("review-table-at-end",
      overflows && box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
    if (overflows) {
      // a scrolling region must be reachable by keyboard (arrow keys scroll it once focused)
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      var table = box.querySelector("table");
      box.setAttribute("aria-label", table ? captionText(table) : "Table");
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }

  function fit(box) {
    fitOf(box);
    update(box);
    box.addEventListener("scroll", function () { update(box); }, { passive: true });
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(function () { update(box); });
      observer.observe(box);
      var table = box.querySelector("table");
      if (table) observer.observe(table);
    }
  }

  /* ---------- sortable tables ---------- */

  function norm(text) {
    return String(text).toLowerCase().normalize("NFD").replace(/\p{Diacritic}/gu, "")
      .replace(/\s+/g, " ").trim();
  }

  var NUMBER = /^[\u2212\u2013-]?\d[\d,]*(\.\d+)?/;

  function numberOf(text) {
    var match = NUMBER.exec(text.replace(/^\u2264|^\u2265|^[<>~\u2248]/, "").trim());
    return match ? parseFloat(match[0].replace(/[\u2212\u2013]/, "-").replace(/,/g, "")) : null;
  }

  function filterColumns(table) {
    var columns = [];
    table.classList.forEach(function (name) {
      var match = /^review-filter-col-(\d+)$/.exec(name);
      if (match) columns.push(parseInt(match[1], 10));
    });
    return columns.sort(function (a, b) { return a - b; });
  }

  function option(value, label) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    return element;
  }

  function enhance(table, index) {
    var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.replace(/\s+/g, " ").trim();
    });
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody > tr"));
    // each row's cell texts, by the row's place in the original order (kept on the row)
    var texts = rows.map(function (tr, i) {
      tr.setAttribute("data-review-row", String(i));
      return Array.prototype.map.call(tr.children, function (cell) {
        return cell.textContent.replace(/\s+/g, " ").trim();
      });
    });
    // a column whose every filled cell starts with a number sorts by that number (ISO dates, which
    // also start with digits, already sort as text)
    headers.forEach(function (_, column) {
      var filled = texts.filter(function (t) { return t[column]; });
      var numeric = filled.length > 0 && filled.every(function (t) {
        return numberOf(t[column]) !== null && !/^\d{4}-\d{2}/.test(t[column]);
      });
      if (!numeric) return;
      rows.forEach(function (tr, i) {
        var cell = tr.children[column];
        var value = texts[i][column] ? numberOf(texts[i][column]) : -Infinity;
        if (cell) cell.setAttribute("data-order", String(value));
      });
    });

    var idBase = (table.id || "review-table-" + index) + "-";
    var controls = document.createElement("div");
    controls.className = "review-table-controls";
    controls.setAttribute("role", "search");
    controls.setAttribute("aria-label", "Filter " + captionText(table).replace(/^Table [\d.]+\s*/, "table "));

    var textLabel = document.createElement("label");
    textLabel.textContent = "Show rows containing ";
    var input = document.createElement("input");
    input.type = "search";
    input.id = idBase + "text";
    input.className = "review-table-text";
    input.setAttribute("aria-controls", table.id || "");
    textLabel.setAttribute("for", input.id);
    controls.appendChild(textLabel);
    controls.appendChild(input);

    var selects = filterColumns(table).filter(function (c) { return c < headers.length; }).map(function (column) {
      var values = {};
      texts.forEach(function (t) { if (t[column]) values[t[column]] = (values[t[column]] || 0) + 1; });
      var select = document.createElement("select");
      select.id = idBase + "filter-" + column;
      select.className = "review-table-filter";
      select.setAttribute("data-column", String(column));
      select.setAttribute("aria-controls", table.id || "");
      select.appendChild(option("", "all"));
      Object.keys(values).sort(function (a, b) { return a.localeCompare(b); }).forEach(function (value) {
        select.appendChild(option(value, value + " (" + values[value] + ")"));
      });
      var label = document.createElement("label");
      label.setAttribute("for", select.id);
      label.textContent = headers[column] + " ";
      var group = document.createElement("span");
      group.className = "review-table-filter-group";
      group.appendChild(label);
      group.appendChild(select);
      controls.appendChild(group);
      return select;
    });

    var count = document.createElement("span");
    count.className = "review-table-count";
    count.setAttribute("aria-live", "polite");
    controls.appendChild(count);

    var box = table.closest(BOX);
    var anchor = box ? (box.closest(".review-table-fit") || box) : table;
    anchor.parentNode.insertBefore(controls, anchor);

    var datatable = new window.simpleDatatables.DataTable(table, {
      paging: false,
      searchable: true,   // searching through our own controls (the template has no input)
      sortable: true,
      fixedColumns: false,
      fixedHeight: false,
      sensitivity: "base",
      ignorePunctuation: false,
      template: function (options) { return "<div class='" + options.classes.container + "'></div>"; },
      labels: { noRows: "No rows", noResults: "No row matches these filters" },
      searchMethod: function (terms, cell, row, column, source) {
        var text = norm(texts[Number(row.attributes["data-review-row"])][column] || "");
        if (source === "review-select") return terms.some(function (term) { return text === term; });
        return terms.some(function (term) { return text.indexOf(term) !== -1; });
      }
    });

    function showCount() {
      var shown = table.querySelectorAll("tbody > tr[data-review-row]").length;
      var filtered = input.value.trim() !== "" || selects.some(function (s) { return s.value !== ""; });
      count.textContent = filtered ? shown + " of " + rows.length + " rows shown" : rows.length + " rows";
      table.setAttribute("data-review-shown", String(shown));
    }

    function apply() {
      var words = norm(input.value).split(" ").filter(Boolean);
      datatable.multiSearch(words.map(function (word) { return { terms: [word] }; }), "review-text");
      var chosen = selects.filter(function (s) { return s.value !== ""; }).map(function (s) {
        return { terms: [norm(s.value)], columns: [Number(s.getAttribute("data-column"))] };
      });
      datatable.multiSearch(chosen, "review-select");
      showCount();
    }

    input.addEventListener("input", apply);
    selects.forEach(function (select) { select.addEventListener("change", apply); });
    datatable.on("datatable.sort", showCount);
    showCount();
    table.classList.add("review-sortable-ready");
  }

  function start() {
    document.querySelectorAll(BOX).forEach(function (box) {
      if (box.querySelector("table")) fit(box);
    });
    if (window.simpleDatatables && window.simpleDatatables.DataTable) {
      document.querySelectorAll("table.review-sortable").forEach(enhance);
    }
    document.querySelectorAll(BOX).forEach(function (box) {
      if (box.parentElement.classList.contains("review-table-frame")) update(box);
    });
    // the controls added above tables move what a link such as #tbl-... pointed at: land on it again
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.closest(".review-table-fit")) target.scrollIntoView();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
