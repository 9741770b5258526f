// The live flow view: draws the layout the kernel computed (aqtra_nb/notebook/layout.py) as inline SVG,
// colours each step by its state in the latest run, and asks the kernel for a step's preview on click.
// DOM hooks for tests: .aqtra-flow-view[data-run], g.aqtra-flow-step[data-step][data-status] (its <title>
// holds the whole name), .aqtra-flow-status, path.aqtra-flow-edge[data-source][data-target][data-port],
// .aqtra-flow-preview[data-step][data-loading], .aqtra-flow-preview-error.

const SVG = "http://www.w3.org/2000/svg";
const ID_LINE_H = 15;
const COMPONENT_LINE_H = 13;
const PAD_Y = 8;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function h(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

export function statusText(step) {
  if (!step) return "";
  const parts = [step.state || "pending"];
  if (step.rows !== null && step.rows !== undefined) {
    const rows = Number(step.rows);
    parts.push(`${rows.toLocaleString("en-US")} row${rows === 1 ? "" : "s"}`);
  }
  if (step.seconds !== null && step.seconds !== undefined) parts.push(`${Number(step.seconds).toFixed(2)} s`);
  return parts.join(" · ");
}

function lines(texts, x, y, className) {
  const text = svg("text", { class: className });
  texts.forEach((line, i) => {
    text.append(svg("tspan", { x, y: y + i * (className === "aqtra-flow-name" ? ID_LINE_H : COMPONENT_LINE_H) }, line));
  });
  return text;
}

// The kernel wraps names by characters; a line of wide letters may still overflow its box: narrow it.
function squeeze(drawing, graph, tries = 0) {
  if (!drawing.isConnected) {
    // drawn before the output is on the page: measure once it is
    if (tries < 100) requestAnimationFrame(() => squeeze(drawing, graph, tries + 1));
    return;
  }
  const widths = new Map(graph.nodes.map((node) => [node.id, node.w - 16]));
  for (const g of drawing.querySelectorAll(".aqtra-flow-step")) {
    const room = widths.get(g.dataset.step);
    for (const span of g.querySelectorAll("tspan")) {
      if (span.getComputedTextLength() > room) {
        span.setAttribute("textLength", room);
        span.setAttribute("lengthAdjust", "spacingAndGlyphs");
      }
    }
  }
}

function runText(run) {
  if (!run || run.state === "idle" || !run.state) return "Not run yet: run the flow (f.run()) to see each step's rows.";
  if (run.state === "running") return "Running…";
  const took = run.seconds !== null && run.seconds !== undefined ? ` in ${Number(run.seconds).toFixed(2)} s` : "";
  if (run.state === "succeeded") return `Last run succeeded${took}. Click a step to preview its first rows.`;
  return `Last run failed${took}: ${run.error || ""}`;
}

function render({ model, el }) {
  const root = h("div", { class: "aqtra-flow-view" });
  const summary = h("div", { class: "aqtra-flow-run", role: "status" });
  const scroll = h("div", { class: "aqtra-flow-scroll" });
  const preview = h("div", { class: "aqtra-flow-preview" });
  root.append(scroll, summary, preview);
  el.append(root);
  const markerId = "aqtra-flow-arrow-" + Math.random().toString(36).slice(2, 10);
  const groups = new Map();

  function select(stepId) {
    model.set("selected", model.get("selected") === stepId ? "" : stepId);
    model.save_changes();
  }

  function drawGraph() {
    const graph = model.get("graph");
    const drawing = svg("svg", {
      class: "aqtra-flow-svg",
      width: graph.width,
      height: graph.height,
      viewBox: `0 0 ${graph.width} ${graph.height}`,
      role: "img",
      "aria-label": `Flow ${graph.flow}`,
    });
    const defs = svg("defs");
    const marker = svg("marker", {
      id: markerId, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7,
      orient: "auto-start-reverse",
    });
    marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "aqtra-flow-arrow" }));
    defs.append(marker);
    drawing.append(defs, svg("text", { x: 12, y: 22, class: "aqtra-flow-title" }, graph.flow));
    for (const edge of graph.edges) {
      const d = edge.points.map(([x, y], i) => `${i === 0 ? "M" : "L"} ${x} ${y}`).join(" ");
      drawing.append(
        svg("path", {
          class: "aqtra-flow-edge", d, "marker-end": `url(#${markerId})`,
          "data-source": edge.source, "data-target": edge.target, "data-port": edge.port,
        }),
      );
    }
    groups.clear();
    for (const node of graph.nodes) {
      const g = svg("g", {
        class: `aqtra-flow-step aqtra-flow-${node.group}`, "data-step": node.id, tabindex: 0, role: "button",
        "aria-label": `${node.id}: ${node.component}`,
      });
      const title = svg("title", {}, `${node.id}: ${node.component}`);
      g.append(title, svg("rect", { class: "aqtra-flow-box", x: node.x, y: node.y, width: node.w, height: node.h, rx: 6 }));
      let y = node.y + PAD_Y + 12;
      g.append(lines(node.id_lines, node.x + 8, y, "aqtra-flow-name"));
      y += ID_LINE_H * node.id_lines.length;
      g.append(lines(node.component_lines, node.x + 8, y, "aqtra-flow-component"));
      y += COMPONENT_LINE_H * node.component_lines.length;
      const status = svg("text", { class: "aqtra-flow-status", x: node.x + 8, y: y + 2 });
      g.append(status);
      for (const [px, py] of node.ports) g.append(svg("circle", { class: "aqtra-flow-port", cx: px, cy: py, r: 2.5 }));
      g.addEventListener("click", () => select(node.id));
      g.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          select(node.id);
        }
      });
      groups.set(node.id, { g, title, status, node });
      drawing.append(g);
    }
    scroll.replaceChildren(drawing);
    squeeze(drawing, graph);
    drawStatus();
  }

  function drawStatus() {
    const steps = model.get("steps") || {};
    const selected = model.get("selected");
    for (const [id, { g, title, status, node }] of groups) {
      const step = steps[id];
      if (step) g.dataset.status = step.state;
      else delete g.dataset.status;
      g.classList.toggle("aqtra-flow-selected", id === selected);
      g.setAttribute("aria-pressed", id === selected ? "true" : "false");
      status.textContent = statusText(step);
      title.textContent = `${node.id}: ${node.component}` + (step && step.error ? `\n${step.error}` : "");
      if (step && step.rows !== null && step.rows !== undefined) g.dataset.rows = String(step.rows);
      else delete g.dataset.rows;
      if (step && step.seconds !== null && step.seconds !== undefined) g.dataset.seconds = String(step.seconds);
      else delete g.dataset.seconds;
    }
    const run = model.get("run") || {};
    root.dataset.run = run.state || "idle";
    summary.textContent = runText(run);
    summary.classList.toggle("aqtra-flow-run-failed", run.state === "failed");
  }

  function drawPreview() {
    const data = model.get("preview") || {};
    preview.replaceChildren();
    if (!data.step) {
      preview.style.display = "none";
      delete preview.dataset.step;
      return;
    }
    preview.style.display = "";
    preview.dataset.step = data.step;
    preview.dataset.loading = data.loading ? "true" : "false";
    const heading = h("div", { class: "aqtra-flow-preview-title" });
    if (data.loading) {
      heading.textContent = `${data.step}: loading…`;
      preview.append(heading);
      return;
    }
    if (data.error) {
      heading.textContent = data.step;
      preview.append(heading, h("div", { class: "aqtra-flow-preview-error", role: "alert" }, data.error));
      return;
    }
    const rows = data.rows || [];
    heading.textContent = `${data.step}: first ${rows.length.toLocaleString("en-US")} row${rows.length === 1 ? "" : "s"}`;
    const table = h("table", { class: "aqtra-flow-preview-table" });
    const head = h("tr");
    const numeric = (kind) => kind === "number" || kind === "integer";
    for (const column of data.columns || []) {
      head.append(h("th", { class: numeric(column.kind) ? "aqtra-num" : "" }, column.name));
    }
    const thead = h("thead");
    thead.append(head);
    const tbody = h("tbody");
    for (const cells of rows) {
      const tr = h("tr");
      cells.forEach((value, i) => {
        const column = (data.columns || [])[i] || { kind: "string" };
        const classes = [numeric(column.kind) ? "aqtra-num" : "", value === null ? "aqtra-null" : ""];
        tr.append(h("td", { class: classes.join(" ").trim() }, value === null ? "—" : value));
      });
      tbody.append(tr);
    }
    table.append(thead, tbody);
    const wrap = h("div", { class: "aqtra-flow-preview-scroll" });
    wrap.append(table);
    preview.append(heading, wrap);
  }

  model.on("change:graph", drawGraph);
  model.on("change:steps", drawStatus);
  model.on("change:run", drawStatus);
  model.on("change:selected", drawStatus);
  model.on("change:preview", drawPreview);
  drawGraph();
  drawPreview();
  return () => {
    model.off("change:graph", drawGraph);
    model.off("change:steps", drawStatus);
    model.off("change:run", drawStatus);
    model.off("change:selected", drawStatus);
    model.off("change:preview", drawPreview);
  };
}

export default { render };
