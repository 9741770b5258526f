// The view of `aqtra_nb.ui.chart.PlotlyFigure`: draws the figure ({data, layout}) with plotly.js and
// again on every change (Plotly.react diffs it). `Plotly` is defined by the module this file is appended
// to (see aqtra_nb/publish/static.py: chart_module).
const CONFIG = { displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

function draw(model, el) {
  const figure = model.get("figure") || {};
  return Plotly.react(el, figure.data || [], figure.layout || {}, CONFIG).catch((error) =>
    console.error("aqtra chart:", error),
  );
}

export default {
  render({ model, el }) {
    const redraw = () => draw(model, el);
    redraw();
    model.on("change:figure", redraw);
    // Plotly sizes a plot once, from its container: follow the container (drawn while detached or in a
    // hidden tab, a resized window).
    let width = el.clientWidth;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth && el.clientWidth !== width && el._fullLayout) {
        width = el.clientWidth;
        Plotly.Plots.resize(el).catch(() => {});
      }
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      model.off("change:figure", redraw);
      Plotly.purge(el);
    };
  },
};
