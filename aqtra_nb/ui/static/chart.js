// The view of `aqtra_nb.ui.chart.PlotlyFigure`: draws the figure ({data, layout}) with plotly.js and
// again on every change (Plotly.react diffs it). `Plotly` is defined by the module this file is appended
// to: plotly.js itself (aqtra_nb/chart_assets.py: chart_module, what a published server serves), or
// null in a notebook, where the page's one copy of plotly.js comes from the shared `PlotlyLibrary` widget
// (aqtra_nb/ui/chart.py: library_module) and is awaited here.
// Colours follow JupyterLab's theme (its CSS variables), light or dark, and change with it.
const CONFIG = { displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

function plotly() {
  if (Plotly) return Promise.resolve(Plotly);
  if (globalThis.__aqtraPlotly) return Promise.resolve(globalThis.__aqtraPlotly);
  return new Promise((resolve) => (globalThis.__aqtraPlotlyWaiters ??= []).push(resolve));
}

function themed(el, layout) {
  const style = getComputedStyle(el);
  const value = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const font = value("--jp-ui-font-color1", "#444");
  const grid = value("--jp-border-color2", "#e0e0e0");
  const axis = (given) => ({ gridcolor: grid, zerolinecolor: grid, linecolor: grid, ...(given || {}) });
  return {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    ...layout,
    font: { color: font, ...(layout.font || {}) },
    xaxis: axis(layout.xaxis),
    yaxis: axis(layout.yaxis),
  };
}

async function draw(model, el) {
  const figure = model.get("figure") || {};
  const library = await plotly();
  return library
    .react(el, figure.data || [], themed(el, figure.layout || {}), CONFIG)
    .catch((error) => console.error("aqtra chart:", error));
}

export default {
  async render({ model, el }) {
    const library = await plotly();
    const redraw = () => draw(model, el);
    await redraw();
    model.on("change:figure", redraw);
    // Plotly sizes a plot once, from its container: follow the container (drawn while detached or in a
    // hidden tab, a resized window).
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth && el.clientWidth !== width && el._fullLayout) {
        width = el.clientWidth;
        library.Plots.resize(el).catch(() => {});
      }
    });
    observer.observe(el);
    // JupyterLab's theme switch changes the variables: draw again in the new colours
    const theme = new MutationObserver(redraw);
    theme.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
    return () => {
      observer.disconnect();
      theme.disconnect();
      model.off("change:figure", redraw);
      library.purge(el);
    };
  },
};
