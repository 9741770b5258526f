"""Writers say what stopped them in plain words, naming the step, the field and the path: never
`[Errno 2] No such file or directory` about a temporary name (#15, #18)."""

from __future__ import annotations

import pandas as pd
import pytest

from aqtra_nb import AqtraError, Flow, FlowValidationError, StepFailed

FRAME = pd.DataFrame({"region": ["North", "South"], "amount": [1.5, 2.5]})
WRITERS = [
    ("write_csv", "CSV", {}),
    ("write_parquet", "Parquet", {}),
    ("write_parquet", "Parquet", {"partition_by": ["region"]}),
]


def failure(partitioned, parted: bool, component: str, path: str, **params) -> AqtraError:
    f = Flow("w")
    source = f.from_frame("source", partitioned(FRAME, 2) if parted else FRAME)
    f.add("out", component, [source], path=path, **params)
    with pytest.raises(AqtraError) as info:
        f.run(record=False, progress=False)
    error = info.value
    assert (error.step, error.field) == ("out", "path")
    assert "Errno" not in str(error) and ".tmp" not in str(error)
    return error


@pytest.mark.parametrize("parted", [False, True], ids=["pandas", "dask"])
@pytest.mark.parametrize(("component", "kind", "params"), WRITERS)
def test_a_file_where_a_folder_should_be(partitioned, tmp_path, parted, component, kind, params):
    (tmp_path / "reports").write_text("not a folder")
    target = tmp_path / "reports" / "2024" / "out.data"
    error = failure(partitioned, parted, component, str(target), **params)
    assert isinstance(error, StepFailed)
    assert str(error).endswith(
        f"{component} failed: cannot write {kind} file {target}: {tmp_path / 'reports'} is a file, not a folder"
    )


@pytest.mark.parametrize(("component", "kind", "params"), WRITERS[:2])
def test_a_folder_where_the_file_should_be(partitioned, tmp_path, component, kind, params):
    (tmp_path / "out.data").mkdir()
    (tmp_path / "out.data" / "kept.txt").write_text("mine")
    error = failure(partitioned, False, component, str(tmp_path / "out.data"), **params)
    assert str(error).endswith(f"cannot write {kind} file {tmp_path / 'out.data'}: it is a folder")
    assert (tmp_path / "out.data" / "kept.txt").read_text() == "mine"


@pytest.mark.parametrize("component", ["write_csv", "write_parquet"])
def test_a_url_is_refused_while_planning(partitioned, component):
    error = failure(partitioned, False, component, "s3://bucket/out.data")
    assert isinstance(error, FlowValidationError)
    assert f"{component} writes local files, not s3://bucket/out.data; export_file writes" in str(error)
