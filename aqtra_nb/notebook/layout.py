"""Where a flow's steps and links go when drawn: layered left to right, folded into bands when wide.

Plain data shared by the static SVG (`dag.py`) and the live view (`flow_view.py`, drawn in the browser).
Every step gets a box tall enough for its whole name (wrapped), one input port per input on its left side
and one output port on its right. Links run only through the free space: along the vertical channels
between columns and the horizontal corridors between bands, so none crosses a box, and each input of a
join or lookup ends at a port of its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..spec import FlowSpec

BOX_W = 176
ID_LINE_H, COMPONENT_LINE_H, STATUS_H, PAD_Y = 15, 13, 16, 8
ID_CHARS, COMPONENT_CHARS = 22, 26  # characters per line at 12 px bold / 11 px (box inner width 160 px)
PORT_GAP = 14  # at least this much of the box's left side per input port
ROW_GAP = 18  # between boxes of one column
MARGIN = 12
TITLE_H = 26
CHANNEL_MIN = 44  # a channel between columns, when it carries no lanes to speak of
LANE = 8  # between parallel link lanes in a channel or corridor
LANE_EDGE = 12  # from a channel's side to its first lane, and from its last lane to the box (arrow room)
MAX_WIDTH = 960
BREAKS = "_-. /:"


@dataclass
class Node:
    id: str
    component: str
    group: str
    id_lines: list[str]
    component_lines: list[str]
    inputs: list[str]
    layer: int
    band: int = 0
    column: int = 0
    x: float = 0.0
    y: float = 0.0
    w: float = BOX_W
    h: float = 0.0
    ports: list[list[float]] = field(default_factory=list)  # (x, y) of each input port, in input order
    out: list[float] = field(default_factory=list)  # (x, y) of the output port


@dataclass
class Edge:
    source: str
    target: str
    port: int  # which input of the target
    points: list[list[float]]


@dataclass
class Layout:
    flow: str
    width: float
    height: float
    nodes: list[Node]
    edges: list[Edge]

    def node(self, step_id: str) -> Node:
        return next(n for n in self.nodes if n.id == step_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken after `_-. /:` where possible; the lines
    joined give `text` back exactly (no hyphen is added)."""
    lines: list[str] = []
    rest = text
    while len(rest) > width:
        cut = max((rest.rfind(c, 0, width) for c in BREAKS), default=-1)
        cut = cut + 1 if cut >= width // 3 else width
        lines.append(rest[:cut])
        rest = rest[cut:]
    lines.append(rest)
    return lines


def layers(spec: FlowSpec) -> dict[str, int]:
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


def component_group(component: str) -> str:
    """input, transform, output or script (the box's colour); transform for unknown components."""
    try:
        from ..components.registry import registry

        return registry.get(component).group
    except Exception:
        return "transform"


def flow_layout(spec: FlowSpec, max_width: float = MAX_WIDTH) -> Layout:
    """Boxes, ports and link routes of `spec`, at most `max_width` wide unless one column is wider."""
    layer_of = layers(spec)
    nodes = [
        Node(
            id=s.id,
            component=s.component,
            group=component_group(s.component),
            id_lines=wrap(s.id, ID_CHARS),
            component_lines=wrap(s.component, COMPONENT_CHARS),
            inputs=[i for i in s.input_ids if i != s.id and i in layer_of],
            layer=layer_of[s.id],
        )
        for s in spec.steps
    ]
    per_band = max(1, int((max_width - 2 * MARGIN - CHANNEL_MIN) // (BOX_W + CHANNEL_MIN)))
    for node in nodes:
        node.band, node.column = divmod(node.layer, per_band)
        text_h = ID_LINE_H * len(node.id_lines) + COMPONENT_LINE_H * len(node.component_lines)
        node.h = max(2 * PAD_Y + text_h + STATUS_H, PORT_GAP * (len(node.inputs) + 1))
    columns = _ordered_columns(nodes)
    by_id = {n.id: n for n in nodes}
    links = [(by_id[src], node, port) for node in nodes for port, src in enumerate(node.inputs)]
    channel_keys, corridor_keys = _lanes(links)
    channel_w = [_channel_width(len(channel_keys.get(c, []))) for c in range(per_band + 1)]
    bands = max((n.band for n in nodes), default=0) + 1
    band_h = [
        max((_stack_height(col) for (b, _), col in columns.items() if b == band), default=0)
        for band in range(bands)
    ]
    corridor_h = [_corridor_height(len(corridor_keys.get(b, [])), last=b == bands - 1) for b in range(bands)]
    column_x = [sum(channel_w[: c + 1]) + c * BOX_W for c in range(per_band)]
    band_y = [TITLE_H + MARGIN + sum(band_h[:b]) + sum(corridor_h[:b]) for b in range(bands)]
    for (band, column), col in columns.items():
        y = band_y[band] + (band_h[band] - _stack_height(col)) / 2
        for node in col:
            node.x, node.y = column_x[column], y
            y += node.h + ROW_GAP
            count = len(node.inputs)
            node.ports = [[node.x, node.y + node.h * (i + 1) / (count + 1)] for i in range(count)]
            node.out = [node.x + node.w, node.y + node.h / 2]
    used_columns = max((n.column for n in nodes), default=0) + 1
    width = column_x[used_columns - 1] + BOX_W + channel_w[used_columns] if nodes else 2 * MARGIN + BOX_W
    height = band_y[-1] + band_h[-1] + corridor_h[-1]

    def lane_x(channel: int, key: tuple) -> float:
        left = column_x[channel - 1] + BOX_W if channel > 0 else 0.0
        keys = channel_keys[channel]
        spread = channel_w[channel] - 2 * LANE_EDGE
        step = min(LANE, spread / max(len(keys) - 1, 1))
        start = left + LANE_EDGE + (spread - step * (len(keys) - 1)) / 2
        return start + step * keys.index(key)

    def lane_y(band: int, source: str) -> float:
        top = band_y[band] + band_h[band]
        keys = corridor_keys[band]
        return top + (corridor_h[band] - LANE * (len(keys) - 1)) / 2 + LANE * keys.index(source)

    edges = []
    for source, target, port in links:
        (sx, sy), (px, py) = source.out, target.ports[port]
        if _adjacent(source, target):
            x = lane_x(target.column, ("out", source.id))
            points = [[sx, sy], [x, sy], [x, py], [px, py]]
        else:
            x_out = lane_x(source.column + 1, ("out", source.id))
            x_in = lane_x(target.column, ("in", target.id, port))
            y = lane_y(source.band, source.id)
            points = [[sx, sy], [x_out, sy], [x_out, y], [x_in, y], [x_in, py], [px, py]]
        edges.append(Edge(source.id, target.id, port, _simplify(points)))
    return Layout(spec.flow, round(width, 1), round(height, 1), nodes, edges)


def _ordered_columns(nodes: list[Node]) -> dict[tuple[int, int], list[Node]]:
    """The boxes of each (band, column), top to bottom: by the mean position of their inputs (fewer
    crossings), else in the file's order."""
    position: dict[str, float] = {}
    columns: dict[tuple[int, int], list[Node]] = {}
    for layer in sorted({n.layer for n in nodes}):
        members = [n for n in nodes if n.layer == layer]

        def key(node: Node, index: int) -> tuple[float, int]:
            known = [position[i] for i in node.inputs if i in position]
            return (sum(known) / len(known) if known else index, index)

        members = [n for _, n in sorted(((key(n, i), n) for i, n in enumerate(members)), key=lambda p: p[0])]
        for index, node in enumerate(members):
            position[node.id] = index
        if members:
            columns[(members[0].band, members[0].column)] = members
    return columns


def _adjacent(source: Node, target: Node) -> bool:
    """The link needs no corridor: the target is in the next column of the same band."""
    return source.band == target.band and target.column == source.column + 1


def _lanes(links: list[tuple[Node, Node, int]]) -> tuple[dict[int, list[tuple]], dict[int, list[str]]]:
    """The lanes of each channel (by column index; a source's links share one) and of each band's corridor."""
    channels: dict[int, list[tuple]] = {}
    corridors: dict[int, list[str]] = {}

    def add(table: dict, index: int, key: Any) -> None:
        keys = table.setdefault(index, [])
        if key not in keys:
            keys.append(key)

    for source, target, port in links:
        add(channels, source.column + 1, ("out", source.id))
        if not _adjacent(source, target):
            add(channels, target.column, ("in", target.id, port))
            add(corridors, source.band, source.id)
    return channels, corridors


def _channel_width(lanes: int) -> float:
    if lanes == 0:
        return MARGIN
    return max(CHANNEL_MIN, 2 * LANE_EDGE + LANE * (lanes - 1))


def _corridor_height(lanes: int, last: bool) -> float:
    if lanes == 0:
        return MARGIN if last else 2 * ROW_GAP
    return max(2 * ROW_GAP, 2 * LANE_EDGE + LANE * (lanes - 1))


def _stack_height(column: list[Node]) -> float:
    return sum(n.h for n in column) + ROW_GAP * (len(column) - 1)


def _simplify(points: list[list[float]]) -> list[list[float]]:
    """Rounded to 0.1 px, without repeated or collinear middle points."""
    kept: list[list[float]] = []
    for x, y in points:
        point = [round(x, 1), round(y, 1)]
        if kept and point == kept[-1]:
            continue
        if len(kept) >= 2:
            (ax, ay), (bx, by) = kept[-2], kept[-1]
            if (ax == bx == point[0]) or (ay == by == point[1]):
                kept[-1] = point
                continue
        kept.append(point)
    return kept
