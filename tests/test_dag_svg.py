"""The flow drawn as SVG: well-formed, one node per step, one edge per input link, escaped, offline."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aqtra_nb import Flow
from aqtra_nb.notebook.dag import flow_svg
from aqtra_nb.spec import FlowSpec, StepSpec, load_flow

SVG = "http://www.w3.org/2000/svg"
NS = {"svg": SVG}
FLOWS_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "flows"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{{{SVG}}}svg"
    return root


def nodes(root: ET.Element) -> dict[str, ET.Element]:
    groups = root.findall(".//svg:g[@class='step']", NS)
    result = {g.get("data-step"): g for g in groups}
    assert len(result) == len(groups), "one node per step id"
    return result


def edges(root: ET.Element) -> list[ET.Element]:
    """Edge paths (the arrow head's path inside <defs> is not an edge)."""
    marker_paths = set(root.findall(".//svg:defs//svg:path", NS))
    return [p for p in root.iter(f"{{{SVG}}}path") if p not in marker_paths]


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{{{SVG}}}text")]


def example_specs() -> list[FlowSpec]:
    return [load_flow(path) for path in sorted(FLOWS_DIR.glob("*.flow.yaml"))]


@pytest.mark.parametrize("spec", example_specs(), ids=lambda s: s.flow)
def test_example_flows_draw_one_node_per_step_and_one_edge_per_link(spec):
    root = parse(flow_svg(spec))
    drawn = nodes(root)
    assert set(drawn) == {s.id for s in spec.steps}
    for step in spec.steps:
        node = drawn[step.id]
        assert node.find("svg:rect", NS) is not None
        assert step.id in texts(node)
        assert step.component in texts(node)
        assert "".join(node.find("svg:title", NS).itertext()) == f"{step.id}: {step.component}"
    links = sum(len(s.input_ids) for s in spec.steps)
    assert links > 0
    assert len(edges(root)) == links
    assert "".join(root.find("svg:text", NS).itertext()) == spec.flow


def test_edges_go_from_input_to_consumer():
    f = Flow("shape")
    a = f.sample_data("a", table="orders")
    b = f.sample_data("b", table="customers")
    joined = f.join("joined", a, b, on="customer_id")
    joined.filter("kept", condition="amount > 0")
    root = parse(f._repr_svg_())
    boxes = {}
    for step_id, group in nodes(root).items():
        rect = group.find("svg:rect", NS)
        boxes[step_id] = tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))

    def box_at(x: float, y: float, side: str) -> str:
        """The step whose box has its left or right side at (x, y)."""
        for step_id, (bx, by, bw, bh) in boxes.items():
            if x == (bx + bw if side == "right" else bx) and by <= y <= by + bh:
                return step_id
        raise AssertionError(f"no box side at {(x, y)}")

    found = set()
    for path in edges(root):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
        (sx, sy), (ex, ey) = numbers[:2], numbers[-2:]
        found.add((box_at(sx, sy, "right"), box_at(ex, ey, "left")))
        assert path.get("marker-end", "").startswith("url(#")
    assert found == {("a", "joined"), ("b", "joined"), ("joined", "kept")}
    # inputs are drawn left of their consumers
    assert boxes["a"][0] == boxes["b"][0] < boxes["joined"][0] < boxes["kept"][0]


def test_a_step_used_twice_as_input_draws_two_edges():
    spec = FlowSpec(
        flow="twice",
        steps=[
            StepSpec(id="a", component="sample_data", with_={"table": "regions"}),
            StepSpec(id="u", component="union", inputs=["a", "a"]),
        ],
    )
    assert len(edges(parse(flow_svg(spec)))) == 2


def test_special_characters_are_escaped():
    name = "Sales <Q1> & \"Q2\" 'draft'"
    component = "my<&>\"component'"
    spec = FlowSpec(
        flow=name,
        steps=[
            StepSpec(id="start", component=component),
            StepSpec(id="next-step_2", component="filter", input="start"),
        ],
    )
    svg = flow_svg(spec)
    root = parse(svg)  # would fail on a raw '<' or '&'
    assert "<Q1>" not in svg and '"Q2"' not in svg and "my<&>" not in svg
    assert "".join(root.find("svg:text", NS).itertext()) == name
    drawn = nodes(root)
    assert set(drawn) == {"start", "next-step_2"}
    assert component in texts(drawn["start"])
    assert "".join(drawn["start"].find("svg:title", NS).itertext()) == f"start: {component}"


def test_characters_xml_forbids_do_not_break_the_document():
    spec = FlowSpec(flow="bell \x07 and nul \x00", steps=[StepSpec(id="a", component="vertical\x0btab")])
    root = parse(flow_svg(spec))
    assert "bell" in "".join(root.find("svg:text", NS).itertext())


def test_long_names_are_wrapped_whole_inside_their_box():
    step_id = "a_rather_long_step_identifier_with_more_words"
    spec = FlowSpec(flow="long", steps=[StepSpec(id=step_id, component="read_csv")])
    node = nodes(parse(flow_svg(spec)))[step_id]
    assert step_id in texts(node)  # the whole name, on several lines
    name = node.find("svg:text", NS)
    spans = ["".join(t.itertext()) for t in name.findall("svg:tspan", NS)]
    assert len(spans) >= 2 and "".join(spans) == step_id
    rect = node.find("svg:rect", NS)
    top, bottom = float(rect.get("y")), float(rect.get("y")) + float(rect.get("height"))
    ys = [float(t.get("y")) for t in node.iter(f"{{{SVG}}}tspan")]
    assert all(top < y < bottom for y in ys) and len(set(ys)) == len(ys)
    assert "".join(node.find("svg:title", NS).itertext()).startswith(step_id)


@pytest.mark.parametrize("spec", [*example_specs(), FlowSpec(flow="empty")], ids=lambda s: s.flow)
def test_no_internet_references(spec):
    svg = flow_svg(spec)
    urls = re.findall(r"https?://[^\s\"'<>)]+", svg)
    assert set(urls) <= {SVG}
    root = parse(svg)
    for element in root.iter():
        assert not element.tag.endswith("script") and not element.tag.endswith("image")
        for key, value in element.attrib.items():
            assert "href" not in key
            if value.startswith("url("):
                assert value.startswith("url(#")  # references stay inside the document
    assert "<script" not in svg and "javascript:" not in svg


def test_marker_ids_differ_between_flows_but_are_stable():
    """Several SVGs inlined in one notebook page must not share an element id."""
    first, second = example_specs()[:2]
    ids = lambda spec: {e.get("id") for e in parse(flow_svg(spec)).iter() if e.get("id")}  # noqa: E731
    assert ids(first) == ids(first)
    assert not ids(first) & ids(second)
    for spec in (first, second):
        root = parse(flow_svg(spec))
        (marker_id,) = ids(spec)
        assert all(p.get("marker-end") == f"url(#{marker_id})" for p in edges(root))


def test_flow_repr_svg_is_the_dag():
    f = Flow.load(FLOWS_DIR / "sales_report.flow.yaml")
    assert f._repr_svg_() == flow_svg(f.spec)


def box_of(group: ET.Element) -> tuple[float, float, float, float]:
    rect = group.find("svg:rect", NS)
    return tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))


def segments(path: ET.Element) -> list[tuple[float, float, float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
    points = list(zip(numbers[::2], numbers[1::2], strict=True))
    return [(*a, *b) for a, b in zip(points, points[1:], strict=False)]


def crosses(segment: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    """An axis-parallel segment passes through the inside of the box (touching its side does not count)."""
    x1, y1, x2, y2 = segment
    bx, by, bw, bh = box
    return min(x1, x2) < bx + bw and max(x1, x2) > bx and min(y1, y2) < by + bh and max(y1, y2) > by


def tangled_flow() -> Flow:
    """A join whose second input comes from two layers back, a lookup, and a chain long enough to fold."""
    f = Flow("tangled")
    orders = f.sample_data("orders", table="orders")
    customers = f.sample_data("customers", table="customers")
    big = orders.filter("big", condition="amount > 10")
    recent = big.filter("recent", condition="amount > 20")
    joined = f.join("joined", customers, recent, on="customer_id")
    step = joined
    for i in range(8):
        step = step.filter(f"then_{i}", condition="amount > 0")
    f.join("late_join", step, big, on="order_id")
    return f


def test_links_never_cross_a_box_and_each_input_has_its_own_port():
    f = tangled_flow()
    root = parse(flow_svg(f.spec))
    boxes = {step_id: box_of(group) for step_id, group in nodes(root).items()}
    paths = edges(root)
    assert len(paths) == sum(len(s.input_ids) for s in f.spec.steps)
    ends: dict[str, set[tuple[float, float]]] = {}
    for path in paths:
        source, target = path.get("data-source"), path.get("data-target")
        for segment in segments(path):
            for step_id, box in boxes.items():
                assert not crosses(segment, box), f"{source}->{target} crosses {step_id}"
        x, y = segments(path)[-1][2:]
        bx, by, bw, bh = boxes[target]
        assert x == bx and by < y < by + bh  # ends on the target's left side
        ends.setdefault(target, set()).add((x, y))
    # a join's two inputs end at two ports (two arrowheads), each marked by a port circle
    for join in ("joined", "late_join"):
        assert len(ends[join]) == 2
        circles = {
            (float(c.get("cx")), float(c.get("cy"))) for c in nodes(root)[join].findall("svg:circle", NS)
        }
        assert ends[join] == circles


def test_a_long_chain_folds_into_rows_within_the_width():
    f = Flow("chain")
    step = f.sample_data("s0", table="orders")
    for i in range(1, 10):
        step = step.filter(f"s{i}", condition="amount > 0")
    root = parse(flow_svg(f.spec))
    assert float(root.get("width")) <= 960
    rows = {box_of(g)[1] for g in nodes(root).values()}
    assert len(rows) >= 3  # 10 steps, at most 4 a row
    narrow = parse(flow_svg(f.spec, max_width=500))
    assert float(narrow.get("width")) <= 500


def test_the_static_drawing_shows_the_latest_run(tmp_path, monkeypatch):
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path))
    f = Flow("ran")
    orders = f.sample_data("orders", table="orders", scale=0.001)
    orders.filter("big", condition="amount > 100")
    assert "data-status" not in f._repr_svg_()
    result = f.run(progress=False, record=False)
    drawn = nodes(parse(f._repr_svg_()))
    assert drawn["big"].get("data-status") == "done"
    rows = len(result.outputs["big"])
    assert f"done · {rows:,} rows" in " ".join(texts(drawn["big"]))
