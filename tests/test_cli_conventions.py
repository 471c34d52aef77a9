"""The command line as a Python tool's (issue 32): ``python -m genprobe``, ``--version``, help that lists
choices and only what matters, ``genprobe compare --json``; and a sweep's progress off a terminal."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from importlib.metadata import version

import pytest

from genprobe import __version__, sweep
from genprobe import compare as cmp
from genprobe.cli import build_parser, main
from genprobe.runs import Cache, RunSpec

TINY = dict(truth="ring@64", n=200, epochs=4, depth=4, width=8, eval_res=32, curve_res=32, checkpoints=2)


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's --help and --version exit through the parser
        return int(exc.code or 0)


def test_python_dash_m_prints_the_version_from_the_package_metadata():
    p = subprocess.run([sys.executable, "-m", "genprobe", "--version"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"genprobe {version('genprobe')}" == f"genprobe {__version__}"


def _help(*argv: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return " ".join(sub.choices[argv[0]].format_help().split())  # argparse wraps lines: compare word by word


def test_options_with_a_fixed_set_of_values_list_them():
    train = _help("train")
    for flag, values in (
        ("--protocol", "standard, blog"),
        ("--labels", "true, shuffled"),
        ("--features", "none, fourier"),
    ):
        assert flag in train and f"choices: {values}" in train
    assert "choices: standard, blog" in _help("frontier")
    assert "cpu" in _help("sweep") and "smoke or paper" in _help("sweep")


def test_baseline_lists_the_training_options_apart_and_train_has_no_knn_option():
    text = _help("baseline")
    head, training = text.split("run spec:", 1)[1].split("training (shuffled and fourier only", 1)
    for flag in ("--depth", "--width", "--lr", "--epochs"):
        assert flag not in head and flag in training
    assert "--labels" not in text and "--features" not in text  # the kind sets them
    assert "--k " in head and "--k " not in _help("train")


def test_a_bad_choice_is_one_line_naming_the_choices(capsys):
    assert run(["train", "--labels", "upside-down", "--no-cache"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "upside-down" in err[0] and "shuffled" in err[0]


def _saves(tmp_path):
    from genprobe.jsonio import to_json_safe
    from genprobe.verdicts import Check, Verdict

    def row(iou):
        v = Verdict(
            claim="no-overfitting",
            statement="held-out IoU stays high",
            subject="mlp/standard",
            n=5000,
            seeds=[0, 1, 2, 3, 4],
            checks=[Check("held_out_iou", list(iou), ">=", 0.65, alpha=0.033)],
            runs=[f"key{s}" for s in range(5)],
        )
        return (
            "benchmarks/test_claims.py::test_no_overfitting_at_5000_points[standard]",
            to_json_safe(v.to_dict()),
            "holds",
        )

    cmp.save([row([0.8, 0.82, 0.78, 0.85, 0.81])], "base", tmp_path)
    cmp.save([row([0.5, 0.52, 0.48, 0.55, 0.51])], "new", tmp_path)


def test_compare_json_to_a_file_and_to_stdout(tmp_path, capsys):
    _saves(tmp_path)
    out = tmp_path / "cmp.json"
    argv = ["compare", "base", "new", "--root", str(tmp_path), "--fail", "held_out_iou:0.05"]
    assert run([*argv, "--json", str(out)]) == 1  # a regression: exit 1, as without --json
    printed = capsys.readouterr().out
    assert "REGRESSION" in printed and f"wrote {out}" in printed
    data = json.loads(out.read_text())
    assert data["regressed"] is True and data["rules"] == ["held_out_iou:0.05"]
    [p] = data["pairs"]
    assert p["metric"] == "held_out_iou" and p["seeds"] == [0, 1, 2, 3, 4]
    assert p["change"] == pytest.approx([-0.3] * 5)
    assert p["judgements"][0]["decision"] == "regressed"
    assert run([*argv, "--json", "-"]) == 1
    assert json.loads(capsys.readouterr().out) == data  # stdout: the JSON alone


def test_a_sweep_off_a_terminal_says_its_progress_with_an_eta(tmp_path, monkeypatch):
    """Issue 32: ``genprobe sweep ... > log 2>&1`` was silent; now INFO lines of the genprobe logger."""
    monkeypatch.setattr(sweep, "PROGRESS_EVERY", 0.0)  # a line at every epoch, not every 30 s
    stream = io.StringIO()  # not a terminal: no bar
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("genprobe")
    monkeypatch.setattr(logger, "level", logging.INFO)
    logger.addHandler(handler)
    try:
        specs = [RunSpec(seed=s, **TINY) for s in (0, 1)]
        sweep.run_sweep(specs, cache=Cache(tmp_path), device="cpu", workers=1)
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "sweep: 1 group, 2 runs to train"
    assert any(line.startswith("sweep: 0/1 group, 0/2 runs, ") and ", ETA " in line for line in lines), lines
    assert lines[-1].startswith("sweep: 1/1 group, 2/2 runs in ")


def test_the_cli_configures_logging_and_quiet_silences_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sweep, "PROGRESS_EVERY", 0.0)
    argv = ["train", "--truth", "ring@64", "--n", "200", "--epochs", "3", "--depth", "4", "--seeds", "0,1"]
    argv += ["--eval-res", "32", "--curve-res", "32", "--checkpoints", "2", "--cache", str(tmp_path / "a")]
    assert run(argv) == 0
    err = capsys.readouterr().err  # capsys: not a terminal
    assert "sweep: 1 group, 2 runs to train" in err and ", ETA " in err
    assert run([*argv[:-1], str(tmp_path / "b"), "-q"]) == 0
    assert "sweep:" not in capsys.readouterr().err
    assert logging.getLogger("genprobe").handlers == []  # the command's handler goes when it ends


def test_a_sweep_on_threads_counts_every_part_once(tmp_path):
    said: list[str] = []
    specs = [RunSpec(seed=s, n=n, **{k: v for k, v in TINY.items() if k != "n"}) for s in (0, 1) for n in (100, 200)]
    sweep.run_sweep(specs, cache=None, device="cpu", workers=2, log_fn=said.append)
    assert said[-1].startswith("sweep: ") and " in " in said[-1]
    done, total = said[-1].split(" group")[0].split()[-1].split("/")
    assert done == total
