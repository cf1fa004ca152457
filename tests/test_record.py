"""Tests of midnn.record: crash-safe run records, validated on load."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from midnn import __version__
from midnn.nn import Tracker
from midnn.priors import Gaussian
from midnn.record import VERSION, RecordError, RecordWarning, load, parse


def _record(tmp_path, name="run", n=3, widths=(6, 5, 3)):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(widths[0], widths[1], bias=False), nn.ReLU(),
                        nn.Linear(widths[1], widths[2], bias=False))
    tracker = Tracker(net, prior=Gaussian(), background=False, record=tmp_path / name,
                      config={"lr": 0.1}, seeds={"torch": 0})
    for epoch in range(n):
        with torch.no_grad():
            net[0].weight.mul_(1.1)
        tracker.checkpoint(epoch, loss=1.0 / (epoch + 1))
    tracker.close()
    return tmp_path / f"{name}.jsonl"


def _lines(path):
    return path.read_text().splitlines()


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))


def test_round_trip_and_metadata(tmp_path):
    path = _record(tmp_path)
    rec = load(path)
    assert rec.n_checkpoints == 3 and rec.status == "complete" and rec.last_step == 2
    h = rec.header
    assert h["format"] == "midnn.record" and h["version"] == VERSION
    assert h["config"] == {"lr": 0.1} and h["seeds"] == {"torch": 0}
    assert h["provenance"]["midnn"] == __version__ and "numpy" in h["provenance"]["libraries"]
    assert "nats per n_X (n_X = 6" in rec.units["entropy"]
    # saving and reloading gives bitwise the same arrays
    again = load(rec.save(tmp_path / "copy"))
    for key, value in rec.checkpoints.items():
        np.testing.assert_array_equal(again.checkpoints[key], value)
    for a, b in zip(rec.spectra, again.spectra, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.history["loss"], [1.0, 0.5, 1 / 3])


def test_frame(tmp_path):
    pytest.importorskip("pandas")  # optional: RunRecord.frame imports it
    rec = load(_record(tmp_path))
    df = rec.frame("mutual_information")
    assert list(df.columns) == ["T1", "T2"] and df.index.name == "epoch"
    assert df.attrs["units"] == rec.units["mutual_information"]
    np.testing.assert_array_equal(df.to_numpy(), rec.checkpoints["mutual_information"])
    with pytest.raises(KeyError, match="no per-layer quantity"):
        rec.frame("converged")


def _edit(path, index, **changes):
    lines = _lines(path)
    obj = json.loads(lines[index])
    obj.update(changes)
    lines[index] = json.dumps(obj)
    _write(path, lines)


def test_wrong_format_or_version(tmp_path):
    path = _record(tmp_path)
    _edit(path, 0, version=VERSION + 1)
    with pytest.raises(RecordError, match=f"format version {VERSION + 1} is not supported"):
        load(path)
    _edit(path, 0, version=VERSION, format="something.else")
    with pytest.raises(RecordError, match="not a midnn.record file"):
        load(path)
    path.write_text("")
    with pytest.raises(RecordError, match="empty record"):
        load(path)
    old = tmp_path / "old.json"  # the former midnn.training/1 format
    old.write_text('{"format": "midnn.training/1"}')
    with pytest.raises(RecordError, match="not a midnn.record run record"):
        load(old)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing")


def test_lines_of_another_run(tmp_path):
    a, b = _record(tmp_path, "a"), _record(tmp_path, "b")
    lines = _lines(a)
    lines.insert(2, _lines(b)[2])
    _write(a, lines)
    with pytest.raises(RecordError, match="line 3: belongs to run"):
        load(a)


def test_arrays_that_do_not_fit_the_chain(tmp_path):
    path = _record(tmp_path)
    lines = _lines(path)
    ck = next(i for i, line in enumerate(lines) if '"checkpoint"' in line)
    obj = json.loads(lines[ck])
    obj["eigvals"][0] = obj["eigvals"][0][:-1]  # a width of another network
    lines[ck] = json.dumps(obj)
    _write(path, lines)
    with pytest.raises(RecordError, match=r"eigvals must hold 2 lists of lengths \[6, 5\]"):
        load(path)
    path = _record(tmp_path, "b")
    _edit(path, ck, mutual_information=[1.0])  # one layer where the chain has two
    with pytest.raises(RecordError, match="mutual_information must be a list of 2 numbers"):
        load(path)


def test_truncated_record(tmp_path):
    path = _record(tmp_path)
    lines = _lines(path)
    cks = [i for i, line in enumerate(lines) if '"checkpoint"' in line]
    _write(path, lines[:cks[-1]] + lines[cks[-1] + 1:])  # the last checkpoint lost
    with pytest.raises(RecordError, match="closed with 3 checkpoints but 2 precede"):
        load(path)
    _write(path, lines[:cks[1]] + lines[cks[1] + 1:])  # a checkpoint missing in the middle
    with pytest.raises(RecordError, match="index 2 where 1 was expected"):
        load(path)
    text = "".join(line + "\n" for line in lines[:cks[1]]) + lines[cks[1]][:40]
    with pytest.warns(RecordWarning, match="last line is incomplete"):
        rec = parse(text)  # what a crash in the middle of a write leaves
    assert rec.n_checkpoints == 1 and rec.status == "running"
    broken = lines[:cks[0]] + [lines[cks[0]][:40]] + lines[cks[0] + 1:]
    _write(path, broken)
    with pytest.raises(RecordError, match="not valid JSON"):
        load(path)


@pytest.mark.parametrize("field,value,match", [
    (("prior",), {"type": "eval", "x": 1}, "unknown prior type 'eval'"),
    (("prior",), {"type": "Gaussian", "var": "1; rm"}, "field 'var' must be a number"),
    (("prior",), {"type": "Gaussian", "scale": 1.0}, "Gaussian has no field 'scale'"),
    (("layers", 0, "activation"), {"type": "Softplus"}, "unknown activation type 'Softplus'"),
    (("layers", 0, "in_features"), 7, "layer 2 takes 5 inputs|n_input is 6"),
])
def test_types_come_from_an_allow_list(tmp_path, field, value, match):
    path = _record(tmp_path)
    lines = _lines(path)
    header = json.loads(lines[0])
    target = header["chain"]
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    lines[0] = json.dumps(header)
    _write(path, lines)
    with pytest.raises(RecordError, match=match):
        load(path)
