"""The Python face of a flow: a builder over the same FlowSpec that files and the editor use."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from .components.registry import registry
from .errors import AqtraError, FlowValidationError, did_you_mean
from .spec import FlowSpec, StepSpec, dump_flow, flow_from_document, infer_parameter, load_flow, parse_flow
from .spec.template import placeholders, refuse_placeholders, substitute

if TYPE_CHECKING:
    from .engine.run import Mode


class Flow:
    """A data flow you can build in Python, save as YAML/JSON, load back, validate, preview and run.

    >>> f = Flow("demo", parameters={"min_amount": 100.0})
    >>> orders = f.sample_data("orders", table="orders", scale=0.001)
    >>> big = orders.filter("big", condition="amount >= @min_amount")
    """

    def __init__(
        self,
        name: str = "flow",
        *,
        parameters: Mapping[str, Any] | None = None,
        description: str = "",
        spec: FlowSpec | None = None,
        replace_steps: bool | None = None,
    ) -> None:
        if spec is None:
            params = {key: infer_parameter(value) for key, value in (parameters or {}).items()}
            spec = FlowSpec(flow=name, description=description, parameters=params)
        self.spec = spec
        self.objects: dict[str, Any] = {}
        #: whether adding a step under an existing id with a different definition replaces it; None: when
        #: running in IPython (a notebook cell run again), else it is an error (docs/flows.md)
        self.replace_steps = replace_steps

    # -- files ---------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Flow:
        return cls(spec=load_flow(path))

    @classmethod
    def from_yaml(cls, text: str, *, source: str | None = None) -> Flow:
        return cls(spec=parse_flow(text, source=source))

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Flow:
        return cls(spec=flow_from_document(document))

    def save(self, path: str | Path) -> Path:
        """Write the flow as YAML (or JSON for `.json`); relative paths then resolve against that folder."""
        path = Path(path)
        dump_flow(self.spec, path)
        self.spec.located(str(path), path.parent)
        return path

    def to_yaml(self) -> str:
        return dump_flow(self.spec)

    def to_dict(self) -> dict[str, Any]:
        return self.spec.to_document()

    # -- building --------------------------------------------------------------------------------------
    def add(
        self, step_id: str, component: str, inputs: Sequence[str | StepRef] = (), **params: Any
    ) -> StepRef:
        """Append a step; it is checked at once (component, inputs, parameters) so mistakes fail here.

        Adding a step under an id the flow has already (a notebook cell run again) keeps the step when it
        is the same, and replaces it in place when it differs, in IPython or with `replace_steps=True`
        (elsewhere that is an error). Steps reading it keep doing so by id."""
        ids = [i.id if isinstance(i, StepRef) else i for i in inputs]
        old = next((s for s in self.spec.steps if s.id == step_id), None)
        if old is not None:
            self._check_replacement(step_id, component, ids)
        known = [s.id for s in self.spec.steps if s.id != step_id]
        for input_id in ids:
            if input_id not in known:
                raise FlowValidationError(
                    f"unknown input step {input_id!r}.{did_you_mean(input_id, known)}",
                    step=step_id,
                    field="input",
                )
        params = self._keep_objects(step_id, component, params)
        try:
            document = {"id": step_id, "component": component, "with": params}
            if len(ids) == 1:
                document["input"] = ids[0]
            elif ids:
                document["inputs"] = ids
            step = StepSpec.model_validate(document)
        except ValidationError as exc:
            raise FlowValidationError(exc.errors()[0]["msg"], step=step_id) from None
        self._check_params(step)
        if old is None:
            self.spec.steps.append(step)
        elif _definition(step) != _definition(old):
            self._replace(old, step)
        return StepRef(self, step_id)

    def _check_replacement(self, step_id: str, component: str, ids: Sequence[str]) -> None:
        """A step added again under its id: no cycle through what reads it (checked before the rest)."""
        downstream = self._downstream(step_id)
        for input_id in ids:
            if input_id == step_id or input_id in downstream:
                raise FlowValidationError(
                    f"step {step_id!r} cannot read {input_id!r}, which reads {step_id!r} (a cycle)",
                    step=step_id,
                    field="input",
                )

    def _replace(self, old: StepSpec, new: StepSpec) -> None:
        replace = self.replace_steps if self.replace_steps is not None else _in_ipython()
        if not replace:
            raise FlowValidationError(
                f"a step with this id exists already ({old.component}"
                f"{' <- ' + ', '.join(old.input_ids) if old.input_ids else ''}); give the new step another "
                "id, or pass Flow(..., replace_steps=True) to replace steps added again",
                step=new.id,
                field="id",
            )
        self.spec.steps[self.spec.steps.index(old)] = new
        used = {value for s in self.spec.steps for value in s.with_.values() if isinstance(value, str)}
        self.objects = {name: value for name, value in self.objects.items() if name in used}

    def _downstream(self, step_id: str) -> set[str]:
        """The steps that read `step_id`, directly or through others."""
        found: set[str] = set()
        frontier = {step_id}
        while frontier:
            frontier = {s.id for s in self.spec.steps if frontier & set(s.input_ids)} - found
            found |= frontier
        return found

    def _keep_objects(self, step_id: str, component: str, params: dict[str, Any]) -> dict[str, Any]:
        """Frames and functions cannot live in a file: keep them on the flow, refer to them by name."""
        params = dict(params)
        if component == "from_frame" and "frame" in params:
            frame = params.pop("frame")
            name = params.setdefault("name", step_id)
            self.objects[name] = frame
        for key, value in list(params.items()):
            if callable(value) and not isinstance(value, type):
                name = getattr(value, "__name__", step_id)
                self.objects[name] = value
                params[key] = name
        return params

    def _check_params(self, step: StepSpec) -> None:
        cls = registry.get(step.component) if step.component in registry else None
        if cls is None:
            registry.get(step.component)  # raises UnknownComponent with a hint
            return
        try:
            refuse_placeholders(step.with_, cls.verbatim)
        except AqtraError as exc:
            raise exc.at(file=self.spec.source, step=step.id) from None
        defaults = {k: p.default for k, p in self.spec.parameters.items() if p.default is not None}
        if placeholders(step.with_) - set(defaults):
            return  # checked at plan time, when the values are known
        from .engine.plan import params_error

        try:
            cls.Params.model_validate(substitute(step.with_, defaults))
        except ValidationError as exc:
            raise params_error(exc, cls, source=self.spec.source, step=step.id) from None

    def step(self, step_id: str) -> StepRef:
        self.spec.step(step_id)
        return StepRef(self, step_id)

    def __getitem__(self, step_id: str) -> StepRef:
        return self.step(step_id)

    def __getattr__(self, component: str) -> Callable[..., StepRef]:
        if component.startswith("_") or component not in registry:
            raise AttributeError(
                f"{type(self).__name__!r} has no attribute {component!r}."
                f"{did_you_mean(component, registry.names())}"
            )

        def add_step(step_id: str, *inputs: Any, **params: Any) -> StepRef:
            if component == "from_frame" and inputs and isinstance(inputs[0], pd.DataFrame | _dask_frame()):
                params["frame"], inputs = inputs[0], inputs[1:]
            if component == "from_frame" and params.get("frame", True) is None:
                params.pop("frame")
            return self.add(step_id, component, list(inputs), **params)

        return _builder_method(add_step, component, on_step=False)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(registry.names()))

    # -- running ---------------------------------------------------------------------------------------
    def plan(
        self,
        parameters: Mapping[str, Any] | None = None,
        /,
        *,
        frames: Mapping[str, Any] | None = None,
        **params: Any,
    ):
        """Validate everything and infer each step's schema, without reading data."""
        from .engine.plan import plan_flow

        return plan_flow(
            self.spec, {**(parameters or {}), **params}, objects={**self.objects, **(frames or {})}
        )

    validate = plan

    def run(
        self,
        parameters: Mapping[str, Any] | None = None,
        /,
        *,
        scheduler: Any = None,
        outputs: Sequence[str] | None = None,
        frames: Mapping[str, Any] | None = None,
        progress: bool | None = None,
        record: Any = True,
        mode: Mode = "auto",
        cache: bool = True,
        **params: Any,
    ):
        """Run on Dask (threads here, or a cluster with `scheduler="tcp://..."`); returns a RunResult.

        The run is recorded in the store (`aqtra-nb runs list`) unless `record=False`; pass a `Store` to
        record elsewhere. `mode`: "partitioned" (Dask frames, partition-parallel), "in_memory" (one pandas
        task per step, for small data) or "auto" (in memory when every input is known to be small).
        """
        from .runs import run_flow

        return run_flow(
            self.spec,
            {**(parameters or {}), **params},
            record=record,
            scheduler=scheduler,
            outputs=outputs,
            objects={**self.objects, **(frames or {})},
            progress=progress,
            mode=mode,
            cache=cache,
            events=self._run_events(),
        )

    def preview(
        self,
        step: str | StepRef,
        /,
        rows: int = 100,
        *,
        parameters: Mapping[str, Any] | None = None,
        frames: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> pd.DataFrame:
        """The first rows of one step, reading as little as possible."""
        from .engine.run import preview_plan

        step_id = step.id if isinstance(step, StepRef) else step
        return preview_plan(self.plan(parameters, frames=frames, **params), step_id, rows)

    # -- display ---------------------------------------------------------------------------------------
    def view(self, *, max_width: float = 960, preview_rows: int = 10) -> Any:
        """The flow as a live widget: each step's state, rows and seconds as runs go; click a step to
        see its first rows. What a notebook shows for a Flow (`FlowView`)."""
        from .notebook.flow_view import FlowView

        return FlowView(self, max_width=max_width, preview_rows=preview_rows)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        """The live view, with the static SVG beside it for nbconvert, GitHub and papermill outputs."""
        try:
            return self.view()._repr_mimebundle_(include=include, exclude=exclude)
        except ImportError:  # no widget library in this kernel: the static drawing only
            return {"image/svg+xml": self._repr_svg_()}

    def _repr_svg_(self) -> str:
        from .notebook.dag import flow_svg
        from .notebook.flow_status import FlowStatus

        return flow_svg(self.spec, FlowStatus.of(self).steps)

    def _run_events(self) -> Any:
        """A run's event stream with this flow's status listening (what its views show)."""
        from .engine.events import EventStream
        from .notebook.flow_status import FlowStatus

        return EventStream([FlowStatus.of(self)])

    def __repr__(self) -> str:
        return f"Flow({self.spec.flow!r}, steps={[s.id for s in self.spec.steps]})"


class StepRef:
    """A handle on one step of a flow: chain components from it (`orders.filter("big", condition=...)`)."""

    def __init__(self, flow: Flow, step_id: str) -> None:
        self.flow, self.id = flow, step_id

    @property
    def spec(self) -> StepSpec:
        return self.flow.spec.step(self.id)

    def __getattr__(self, component: str) -> Callable[..., StepRef]:
        if component.startswith("_") or component not in registry:
            raise AttributeError(f"no component {component!r}.{did_you_mean(component, registry.names())}")

        def add_step(step_id: str, *others: StepRef | str, **params: Any) -> StepRef:
            return self.flow.add(step_id, component, [self, *others], **params)

        return _builder_method(add_step, component, on_step=True)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(registry.names()))

    def preview(self, rows: int = 100, **params: Any) -> pd.DataFrame:
        return self.flow.preview(self.id, rows, **params)

    def __repr__(self) -> str:
        return f"StepRef({self.id!r}, component={self.spec.component!r})"


def _builder_method(
    add_step: Callable[..., StepRef], component: str, *, on_step: bool
) -> Callable[..., StepRef]:
    """The component's parameters as the method's signature and docstring (Shift+Tab, Tab completion)."""
    from .components.reference import builder_doc, builder_signature

    cls = registry.get(component)
    add_step.__name__ = add_step.__qualname__ = component
    # arg-type: mypy takes a class held in a variable for unhashable (python/mypy#11470)
    add_step.__doc__ = builder_doc(cls)  # type: ignore[arg-type]
    add_step.__signature__ = builder_signature(cls, on_step)  # type: ignore[attr-defined, arg-type]
    return add_step


def _definition(step: StepSpec) -> tuple[Any, ...]:
    """What a step computes: equal definitions make adding a step again a no-op."""
    return (step.component, step.input_ids, step.with_)


def _in_ipython() -> bool:
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def _dask_frame() -> type:
    if "dask.dataframe" in sys.modules:
        return sys.modules["dask.dataframe"].DataFrame
    return pd.DataFrame


__all__ = ["AqtraError", "Flow", "StepRef"]
