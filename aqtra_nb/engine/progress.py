"""A progress bar that listens to the run event stream: a widget in notebooks, text in terminals."""

from __future__ import annotations

from .events import RunEvent


class ProgressBar:
    def __init__(self, steps: int, flow: str) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=steps, desc=flow, unit="step", leave=False)

    def __call__(self, event: RunEvent) -> None:
        if event.kind == "step_finished":
            rows = "" if event.rows is None else f" {event.rows:,} rows"
            self.bar.set_postfix_str(
                f"{event.step}:{rows}{' (cached)' if event.cached else ''}", refresh=False
            )
            self.bar.update(1)
        elif event.kind == "run_failed":
            self.bar.set_postfix_str("failed")

    def close(self) -> None:
        self.bar.close()
