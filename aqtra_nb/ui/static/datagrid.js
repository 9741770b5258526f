// The DataGrid view: renders the page the Python side sends; sends back page, sort, filter and selection.
// DOM hooks for tests: .aqtra-grid[data-total][data-page][data-pages][data-revision][data-loading],
// data-loading is "true" from a user action (page, sort, filter) until the server's answer is shown;
// th.aqtra-grid-header[data-column][aria-sort], tr.aqtra-grid-row[data-row-id], td[data-column],
// input.aqtra-grid-filter, .aqtra-grid-error, .aqtra-grid-first/prev/next/last, .aqtra-grid-page.

function h(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

function render({ model, el }) {
  const root = h("div", { class: "aqtra-grid" });
  const toolbar = h("div", { class: "aqtra-grid-toolbar" });
  const title = h("span", { class: "aqtra-grid-title" });
  const filter = h("input", {
    class: "aqtra-grid-filter",
    type: "text",
    placeholder: "Filter, e.g. amount > 100 and region == 'North'",
    "aria-label": "Filter rows",
  });
  const count = h("span", { class: "aqtra-grid-count" });
  toolbar.append(title, filter, count);
  const error = h("div", { class: "aqtra-grid-error aqtra-form-error", role: "alert" });
  const scroll = h("div", { class: "aqtra-grid-scroll" });
  const table = h("table", { class: "aqtra-grid-table" });
  const thead = h("thead");
  const tbody = h("tbody");
  table.append(thead, tbody);
  scroll.append(table);
  const pager = h("div", { class: "aqtra-grid-pager" });
  const buttons = {};
  for (const [name, label, title] of [
    ["first", "«", "First page"],
    ["prev", "‹", "Previous page"],
    ["next", "›", "Next page"],
    ["last", "»", "Last page"],
  ]) {
    buttons[name] = h("button", { class: `aqtra-grid-${name}`, type: "button", title }, label);
  }
  const pageLabel = h("span", { class: "aqtra-grid-page" });
  pager.append(buttons.first, buttons.prev, pageLabel, buttons.next, buttons.last);
  root.append(toolbar, error, scroll, pager);
  el.append(root);

  // a user's action asks the server for a page: mark the grid busy until the next revision arrives
  const send = () => {
    root.dataset.loading = "true";
    model.save_changes();
  };
  root.dataset.loading = "false";

  const pages = () => Math.max(1, Math.ceil(model.get("total_rows") / Math.max(1, model.get("page_size"))));
  const goTo = (page) => {
    const target = Math.min(Math.max(0, page), pages() - 1);
    if (target !== model.get("page")) {
      model.set("page", target);
      send();
    }
  };
  buttons.first.addEventListener("click", () => goTo(0));
  buttons.prev.addEventListener("click", () => goTo(model.get("page") - 1));
  buttons.next.addEventListener("click", () => goTo(model.get("page") + 1));
  buttons.last.addEventListener("click", () => goTo(pages() - 1));

  const applyFilter = () => {
    if (filter.value !== model.get("filter")) {
      model.set("filter", filter.value);
      send();
    }
  };
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") applyFilter();
  });
  filter.addEventListener("change", applyFilter);

  const numeric = (kind) => kind === "number" || kind === "integer";

  function renderHeader() {
    thead.replaceChildren();
    const row = h("tr");
    const sortBy = model.get("sort_by");
    const descending = model.get("sort_descending");
    for (const column of model.get("columns")) {
      const sorted = column.name === sortBy;
      const th = h(
        "th",
        {
          class: "aqtra-grid-header" + (numeric(column.kind) ? " aqtra-num" : ""),
          "data-column": column.name,
          "aria-sort": sorted ? (descending ? "descending" : "ascending") : "none",
          title: "Sort by " + column.name,
        },
        column.name + (sorted ? (descending ? " ▼" : " ▲") : ""),
      );
      th.addEventListener("click", () => {
        if (model.get("sort_by") === column.name) {
          model.set("sort_descending", !model.get("sort_descending"));
        } else {
          model.set("sort_by", column.name);
          model.set("sort_descending", false);
        }
        send();
      });
      row.append(th);
    }
    thead.append(row);
  }

  function renderBody() {
    tbody.replaceChildren();
    const columns = model.get("columns");
    const ids = model.get("row_ids");
    const selected = new Set(model.get("selection"));
    const rows = model.get("rows");
    if (rows.length === 0) {
      const tr = h("tr", { class: "aqtra-grid-empty-row" });
      const td = h("td", { class: "aqtra-grid-empty", colspan: String(Math.max(1, columns.length)) }, "No rows");
      tr.append(td);
      tbody.append(tr);
    }
    rows.forEach((cells, index) => {
      const id = ids[index];
      const tr = h("tr", {
        class: "aqtra-grid-row" + (selected.has(id) ? " aqtra-selected" : ""),
        "data-row-id": String(id),
        "data-row-index": String(index),
        "aria-selected": selected.has(id) ? "true" : "false",
      });
      cells.forEach((value, i) => {
        const column = columns[i] || { name: String(i), kind: "string" };
        const classes = [numeric(column.kind) ? "aqtra-num" : "", value === null ? "aqtra-null" : ""];
        tr.append(
          h("td", { class: classes.join(" ").trim(), "data-column": column.name }, value === null ? "—" : value),
        );
      });
      tr.addEventListener("click", () => {
        const mode = model.get("selection_mode");
        if (mode === "none") return;
        const current = model.get("selection");
        let next;
        if (current.includes(id)) next = current.filter((x) => x !== id);
        else next = mode === "single" ? [id] : [...current, id];
        model.set("selection", next);
        model.save_changes();
      });
      tbody.append(tr);
    });
  }

  function renderState() {
    const total = model.get("total_rows");
    const source = model.get("source_rows");
    const page = model.get("page");
    title.textContent = model.get("title");
    title.style.display = model.get("title") ? "" : "none";
    filter.style.display = model.get("show_filter") ? "" : "none";
    if (document.activeElement !== filter) filter.value = model.get("filter");
    const rows = (n) => `${n.toLocaleString("en-US")} ${n === 1 ? "row" : "rows"}`;
    count.textContent = total === source ? rows(total) : `${total.toLocaleString("en-US")} of ${rows(source)}`;
    error.textContent = model.get("filter_error");
    error.style.display = model.get("filter_error") ? "" : "none";
    pageLabel.textContent = `Page ${(page + 1).toLocaleString("en-US")} of ${pages().toLocaleString("en-US")}`;
    buttons.first.disabled = buttons.prev.disabled = page <= 0;
    buttons.next.disabled = buttons.last.disabled = page >= pages() - 1;
    root.dataset.total = String(total);
    root.dataset.page = String(page);
    root.dataset.pages = String(pages());
    root.dataset.revision = String(model.get("revision"));
    root.dataset.sortBy = model.get("sort_by");
  }

  function renderAll() {
    renderHeader();
    renderBody();
    renderState();
  }
  renderAll();
  model.on("change:revision", () => {
    root.dataset.loading = "false";
  });
  model.on("change:filter_error", () => {
    root.dataset.loading = "false"; // a rejected filter sends no new page
  });
  model.on("change:columns", renderHeader);
  model.on("change:sort_by", renderHeader);
  model.on("change:sort_descending", renderHeader);
  for (const name of ["rows", "row_ids", "selection"]) model.on(`change:${name}`, renderBody);
  for (const name of ["total_rows", "source_rows", "page", "page_size", "filter", "filter_error", "title", "show_filter", "revision", "sort_by"]) {
    model.on(`change:${name}`, renderState);
  }
}

export default { render };
