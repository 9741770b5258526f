"""Draw a flow as a static SVG (the layout of `layout.py`), with no JavaScript and nothing from the internet.

The fallback of the live flow view (`flow_view.py`) wherever widgets do not run: nbconvert, GitHub,
papermill outputs. With `status`, each box also says how its step did in the latest run.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from typing import Any

from ..spec import FlowSpec
from .layout import COMPONENT_LINE_H, ID_LINE_H, MAX_WIDTH, PAD_Y, Layout, Node, flow_layout

COLORS = {"input": "#e3f2fd", "transform": "#f1f8e9", "output": "#fff3e0", "script": "#f3e5f5"}
STATE_COLORS = {
    "pending": "#90a4ae",
    "running": "#1976d2",
    "done": "#2e7d32",
    "cached": "#00838f",
    "failed": "#c62828",
    "skipped": "#90a4ae",
}
# Characters XML 1.0 does not allow at all (not even as references): most C0 controls, lone surrogates.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """Text for an XML text node or attribute: special characters escaped, forbidden ones replaced."""
    return html.escape(NOT_XML.sub("\ufffd", text))


def status_text(step: Mapping[str, Any] | None) -> str:
    """One line under a step's name: its state in the latest run, with rows and seconds when known."""
    if not step:
        return ""
    state = step.get("state", "pending")
    parts = [state]
    if step.get("rows") is not None:
        rows = int(step["rows"])
        parts.append(f"{rows:,} row{'' if rows == 1 else 's'}")
    if step.get("seconds") is not None:
        parts.append(f"{float(step['seconds']):.2f} s")
    return " · ".join(parts)


def flow_svg(
    spec: FlowSpec, status: Mapping[str, Mapping[str, Any]] | None = None, max_width: float = MAX_WIDTH
) -> str:
    return layout_svg(flow_layout(spec, max_width), status)


def layout_svg(layout: Layout, status: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    status = status or {}
    width, height = layout.width, layout.height
    # Notebooks may inline several SVGs in one page, where ids are global: one marker id per drawing.
    digest = hashlib.sha1(repr((layout.to_dict(), sorted(status))).encode("utf-8", "replace")).hexdigest()
    arrow = "aqtra-arrow-" + digest[:10]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#607d8b"/></marker></defs>',
        # its own background: readable as an image on a dark page too
        f'<rect class="background" width="{width}" height="{height}" rx="6" fill="#ffffff"/>',
        f'<text x="12" y="22" font-weight="bold" fill="#212121">{escape(layout.flow)}</text>',
    ]
    for edge in layout.edges:
        d = " ".join(f"{'M' if i == 0 else 'L'} {x} {y}" for i, (x, y) in enumerate(edge.points))
        parts.append(
            f'<path class="edge" data-source="{escape(edge.source)}" data-target="{escape(edge.target)}" '
            f'data-port="{edge.port}" d="{d}" fill="none" stroke="#607d8b" stroke-width="1.4" '
            f'marker-end="url(#{arrow})"/>'
        )
    for node in layout.nodes:
        parts.append(_node_svg(node, status.get(node.id)))
    parts.append("</svg>")
    return "".join(parts)


def _node_svg(node: Node, step: Mapping[str, Any] | None) -> str:
    x, y = node.x, node.y
    fill = COLORS.get(node.group, COLORS["transform"])
    state: str = (step or {}).get("state") or ""
    stroke = STATE_COLORS.get(state, "#90a4ae")
    title = f"{node.id}: {node.component}"
    if step and step.get("error"):
        title += f"\n{step['error']}"
    parts = [
        f'<g class="step" data-step="{escape(node.id)}"'
        + (f' data-status="{escape(state)}"' if state else "")
        + ">",
        f"<title>{escape(title)}</title>",
        f'<rect x="{x}" y="{y}" width="{node.w}" height="{node.h}" rx="6" fill="{fill}" stroke="{stroke}"'
        f' stroke-width="{2 if state else 1}"/>',
    ]
    line_y = y + PAD_Y + 12
    parts.append(_lines(node.id_lines, x + 8, line_y, ID_LINE_H, 'font-weight="bold" fill="#212121"'))
    line_y += ID_LINE_H * len(node.id_lines)
    parts.append(
        _lines(node.component_lines, x + 8, line_y, COMPONENT_LINE_H, 'fill="#546e7a" font-size="11"')
    )
    line_y += COMPONENT_LINE_H * len(node.component_lines)
    if state:
        parts.append(
            f'<text class="status" x="{x + 8}" y="{line_y + 2}" font-size="11" fill="{stroke}">'
            f"{escape(status_text(step))}</text>"
        )
    for px, py in node.ports:
        parts.append(f'<circle class="port" cx="{px}" cy="{round(py, 1)}" r="2.5" fill="#607d8b"/>')
    parts.append("</g>")
    return "".join(parts)


def _lines(lines: list[str], x: float, y: float, step: float, attributes: str) -> str:
    """One <text> whose <tspan>s are the lines: its text content is the whole name."""
    spans = "".join(
        f'<tspan x="{x}" y="{round(y + i * step, 1)}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f"<text {attributes}>{spans}</text>"
