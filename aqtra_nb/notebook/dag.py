"""Draw a flow as an SVG DAG (layered left to right), with no JavaScript and nothing from the internet."""

from __future__ import annotations

import hashlib
import html
import re

from ..spec import FlowSpec

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 150, 44, 56, 18, 12
COLORS = {"input": "#e3f2fd", "transform": "#f1f8e9", "output": "#fff3e0", "script": "#f3e5f5"}
# Characters XML 1.0 does not allow at all (not even as references): most C0 controls, lone surrogates.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """Text for an XML text node or attribute: special characters escaped, forbidden ones replaced."""
    return html.escape(NOT_XML.sub("\ufffd", text))


def _layers(spec: FlowSpec) -> dict[str, int]:
    """Layer of each step = length of the longest input chain before it (unknown inputs ignored)."""
    inputs = {s.id: [i for i in s.input_ids if i != s.id] for s in spec.steps}
    layer: dict[str, int] = {}

    def depth(step_id: str, visiting: frozenset[str]) -> int:
        if step_id in layer:
            return layer[step_id]
        parents = [p for p in inputs.get(step_id, []) if p in inputs and p not in visiting]
        value = 1 + max((depth(p, visiting | {step_id}) for p in parents), default=-1)
        layer[step_id] = value
        return value

    for step in spec.steps:
        depth(step.id, frozenset())
    return layer


def _group(component: str) -> str:
    try:
        from ..components.registry import registry

        return registry.get(component).group
    except Exception:
        return "transform"


def flow_svg(spec: FlowSpec) -> str:
    layers = _layers(spec)
    columns: dict[int, list[str]] = {}
    for step in spec.steps:
        columns.setdefault(layers[step.id], []).append(step.id)
    position = {}
    for col, ids in columns.items():
        for row, step_id in enumerate(ids):
            position[step_id] = (PAD + col * (BOX_W + GAP_X), PAD + 22 + row * (BOX_H + GAP_Y))
    width = PAD * 2 + (max(columns, default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + 22 + max((len(v) for v in columns.values()), default=1) * (BOX_H + GAP_Y) - GAP_Y
    # Notebooks may inline several SVGs in one page, where ids are global: one marker id per flow content.
    arrow = "aqtra-arrow-" + hashlib.sha1(repr(spec.model_dump()).encode("utf-8", "replace")).hexdigest()[:10]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#607d8b"/></marker></defs>',
        f'<text x="{PAD}" y="{PAD + 10}" font-weight="bold">{escape(spec.flow)}</text>',
    ]
    for step in spec.steps:
        x2, y2 = position[step.id]
        for input_id in step.input_ids:
            if input_id not in position:
                continue
            x1, y1 = position[input_id]
            sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2
            mid = (sx + ex) / 2
            parts.append(
                f'<path d="M {sx} {sy} C {mid} {sy}, {mid} {ey}, {ex} {ey}" fill="none" '
                f'stroke="#607d8b" stroke-width="1.4" marker-end="url(#{arrow})"/>'
            )
    for step in spec.steps:
        x, y = position[step.id]
        fill = COLORS.get(_group(step.component), COLORS["transform"])
        parts.append(
            f'<g class="step" data-step="{escape(step.id)}"><title>{escape(step.id)}: {escape(step.component)}'
            f"</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#90a4ae"/>'
            f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{escape(_clip(step.id))}</text>'
            f'<text x="{x + 8}" y="{y + 34}" fill="#546e7a">{escape(_clip(step.component))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
