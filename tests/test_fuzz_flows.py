"""Random malformed flow documents and expressions: only AqtraErrors, never a bare exception."""

import copy

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqtra_nb.components import registry
from aqtra_nb.engine import plan_flow
from aqtra_nb.errors import AqtraError
from aqtra_nb.spec import flow_from_document, parse_flow

FRAME = pd.DataFrame({"region": ["N", "S"], "amount": [1.5, 2.0], "n": [1, 2], "tags": [["a"], ["b", "c"]]})
VALID = {
    "flow": "fuzz",
    "parameters": {"min_amount": {"type": "number", "default": 1}},
    "steps": [
        {"id": "src", "component": "from_frame", "with": {"name": "src"}},
        {"id": "big", "component": "filter", "input": "src", "with": {"condition": "amount >= @min_amount"}},
        {
            "id": "agg",
            "component": "aggregate",
            "input": "big",
            "with": {"by": ["region"], "aggregations": {"total": "sum(amount)"}},
        },
    ],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, width=16),
    st.sampled_from(
        [
            "",
            "amount",
            "region",
            "@min_amount",
            "sum(amount)",
            "x >",
            "${nope}",
            "count()",
            "src",
            "big",
            "n + 1",
            "`odd name`",
            "[1]",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["by", "on", "columns", "condition", "x"]), inner, max_size=3),
    ),
    max_leaves=8,
)
keys = st.sampled_from(
    [
        "flow",
        "parameters",
        "steps",
        "id",
        "component",
        "input",
        "inputs",
        "with",
        "type",
        "default",
        "by",
        "condition",
        "aggregations",
        "columns",
        "extra",
    ]
)


@st.composite
def mutated_documents(draw):
    document = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        target = document
        path = draw(st.lists(st.integers(0, 5), max_size=4))
        for index in path:
            children = (
                list(target.items())
                if isinstance(target, dict)
                else list(enumerate(target))
                if isinstance(target, list)
                else []
            )
            if not children or not isinstance(children[index % len(children)][1], dict | list):
                break
            target = children[index % len(children)][1]
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target, key=str)))
            if action == "delete":
                del target[key]
            elif action == "set":
                target[key] = draw(values)
            else:
                target[draw(keys)] = draw(values)
        elif isinstance(target, list):
            if action == "delete" and target:
                target.pop()
            else:
                target.append(
                    draw(
                        st.one_of(
                            values,
                            st.fixed_dictionaries(
                                {
                                    "id": st.sampled_from(["a", "src", "big", "z"]),
                                    "component": st.sampled_from(registry.names() + ["nope"]),
                                    "input": st.sampled_from(["src", "big", "agg", "a"]),
                                    "with": st.dictionaries(
                                        st.sampled_from(["path", "columns", "by", "rows", "condition"]),
                                        values,
                                        max_size=3,
                                    ),
                                }
                            ),
                        )
                    )
                )
    return document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_mutated_documents_give_only_aqtra_errors(document):
    try:
        spec = flow_from_document(document)
        plan_flow(spec, objects={"src": FRAME})
    except AqtraError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_gives_only_aqtra_errors(text):
    try:
        parse_flow(text)
    except AqtraError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="amount region n +-*/()<>=!@'\"`,._[]{}:0123456789 andornotifsumcount", max_size=40))
def test_random_conditions_and_aggregations_give_only_aqtra_errors(text):
    for component, params in [
        ("filter", {"condition": text}),
        ("derive", {"columns": {"y": text}}),
        ("aggregate", {"by": ["region"], "aggregations": {"y": text}}),
    ]:
        document = copy.deepcopy(VALID)
        document["steps"].append({"id": "x", "component": component, "input": "src", "with": params})
        try:
            plan_flow(flow_from_document(document), objects={"src": FRAME})
        except AqtraError:
            pass


YAML_PIECES = [
    "flow: f\n", "steps: []\n", "a: &x [1, 2, 3]\n", "b: [*x, *x, *x, *x]\n", "c: *x\n", "d: *nope\n",
    "parameters: {p: {type: number, default: 1}}\n", "parameters: {p: {type: string}}\n", "flow: g\n",
    "e: [[[[[[[[[[1]]]]]]]]]]\n", "f: {a: 1, a: 2}\n", "<<: *x\n", "g: !!python/object:os.system x\n",
    "  - id: a\n", "h: &y {k: *y}\n", "steps:\n  - {id: s, component: from_frame, with: {name: src}}\n",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(YAML_PIECES), max_size=10),
    st.integers(0, 3000),
    st.binary(max_size=8),
)
def test_yaml_with_aliases_nesting_bytes_and_duplicates_gives_only_aqtra_errors(pieces, depth, junk):
    text = "".join(pieces) + ("z: " + "[" * depth + "]" * depth + "\n" if depth else "")
    for candidate in (text, text.encode() + junk):
        try:
            if isinstance(candidate, bytes):
                from aqtra_nb.spec.io import parse_yaml

                parse_yaml(candidate.decode("utf-8", errors="strict"), source=None, error=AqtraError)
            else:
                parse_flow(candidate)
        except AqtraError:
            pass
        except UnicodeDecodeError:
            pass  # undecodable bytes never reach YAML: `read_spec_file` refuses them (tested in tests/spec)
