"""``genprobe frontier``: trains what is missing through the cached, batched sweep, prints the table, writes
JSON and a figure; bad input is one line and exit 2. Only tiny runs (a 64^2 ring, 20 epochs, depth 6)."""

from __future__ import annotations

import json

import pytest

from genprobe import profiles
from genprobe.cli import main
from genprobe.profiles import Profile

TINY = {"truth": "ring@64"}


class TinyProfile(Profile):
    """The smoke thresholds on a 64^2 ring, nets of depth 6 trained 20 epochs, 32^2 grids."""

    def net(self, n, seed, protocol="standard", **overrides):
        return super().net(n, seed, protocol, **{**TINY, "depth": 6, "width": 30, **overrides})

    def baseline(self, model, n, seed, k=1):
        return super().baseline(model, n, seed, k).replace(**TINY)

    def fourier(self, n, seed, scale=None):
        return super().fourier(n, seed, scale).replace(steps=20, **TINY)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    smoke = profiles.PROFILES["smoke"]
    p = TinyProfile(
        name="tiny",
        description="test",
        seeds=(0, 1),
        epochs=20,
        long_epochs=20,
        eval_res=32,
        curve_res=32,
        checkpoints=4,
        thresholds=smoke.thresholds,
    )
    monkeypatch.setattr(profiles, "PROFILES", {**profiles.PROFILES, "tiny": p})
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "cache"))
    return p


def run(argv):
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_frontier_trains_prints_and_writes(tiny, tmp_path, capsys):
    out = tmp_path / "f.json"
    png = tmp_path / "f.png"
    argv = ["frontier", "contiguous", "--profile", "tiny", "--sizes", "100,200,400", "--seeds", "0-2"]
    argv += ["--bootstrap", "20", "--quiet", "--json", str(out), "--png", str(png)]
    assert run(argv) == 0
    text = capsys.readouterr().out
    assert "contiguous" in text and "N=400:" in text and "1-NN rule" in text and "dot memoriser" in text
    data = json.loads(out.read_text())
    assert [r["model"] for r in data["rows"]] == ["net", "knn", "dot"]
    assert data["rows"][0]["sizes"] == [100, 200, 400] and data["rows"][0]["seeds"] == [0, 1, 2]
    assert all(s["seeds"] == 3 for r in data["rows"] for s in r["shares"])
    assert png.read_bytes()[:4] == b"\x89PNG"
    cached = sorted((tmp_path / "cache").rglob("*"))
    # a second call trains nothing: every run comes from the cache
    assert run(argv[:-4] + ["--model", "net"]) == 0
    assert sorted((tmp_path / "cache").rglob("*")) == cached


@pytest.mark.parametrize(
    "args, named",
    [
        (["no-such-claim"], "unknown claim 'no-such-claim'"),
        (["contiguous", "--sizes", "5000"], "at least 2 sizes"),
        (["contiguous", "--sizes", "0-5000:8"], "1 <= LOW < HIGH"),
        (["contiguous", "--sizes", "200-5000:x"], "200-5000:x"),
        (["contiguous", "--sizes", "312,abc"], "'abc'"),
        (["contiguous", "--seeds", "a-b"], "'a-b'"),
        (["contiguous", "--seeds", "-3"], "'-3'"),
        (["contiguous", "--model", "svm"], "'svm'"),
        (["longer-helps", "--model", "knn"], "--model net"),
        (["contiguous", "--profile", "nope"], "'nope'"),
        (["contiguous", "--bootstrap", "0"], "got 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, named, capsys, monkeypatch):
    import genprobe.sweep

    monkeypatch.setattr(genprobe.sweep, "run_sweep", lambda *a, **k: pytest.fail("trained on bad input"))
    assert run(["frontier", *args]) == 2
    err = capsys.readouterr().err
    assert named in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


USER_MODULE = """
from torch import nn


def make(width=8):
    return nn.Sequential(nn.Linear(2, width), nn.Tanh(), nn.Linear(width, 1))
"""


def test_frontier_of_a_user_model_and_the_fourier_control(tiny, tmp_path, capsys, monkeypatch):
    """``--model`` takes the Fourier-feature control and a user model's factory (with ``--model-arg``),
    trained like the post's net; each is a row of its own."""
    name = "frontier_user_model_mod"
    (tmp_path / f"{name}.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "f.json"
    argv = ["frontier", "contiguous", "--profile", "tiny", "--sizes", "100,200", "--seeds", "0-2", "--quiet"]
    argv += ["--bootstrap", "10", "--model", f"net,fourier,{name}:make", "--model-arg", "width=6"]
    assert run([*argv, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [r["model"] for r in data["rows"]] == ["net", "fourier", f"{name}:make"]
    assert f"{name}:make" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, named",
    [
        (["--model", "net", "--model-arg", "width=6"], "--model-arg is for a user model"),
        (["--model", "no_such_module_xyz:make"], "no_such_module_xyz"),
    ],
)
def test_bad_user_model_input_is_one_line(args, named, capsys, monkeypatch):
    import genprobe.sweep

    monkeypatch.setattr(genprobe.sweep, "run_sweep", lambda *a, **k: pytest.fail("trained on bad input"))
    assert run(["frontier", "contiguous", *args]) == 2
    err = capsys.readouterr().err
    assert named in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
