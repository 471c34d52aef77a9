"""The ``--genprobe-*`` options and ``GENPROBE_*`` variables, read and validated into :class:`Settings`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..options import DEVICES

__all__ = ["Settings", "VERDICT_PROPERTY", "EXPECTATIONS"]

VERDICT_PROPERTY = "genprobe_verdict"


EXPECTATIONS = ("holds", "refuted", "fails", "report")


_OPTIONS = {
    # option: (environment variable, help)
    "profile": ("GENPROBE_PROFILE", "scale of the claim suite: smoke or paper (default: smoke)"),
    "device": ("GENPROBE_DEVICE", "device to train on: auto, cpu, cuda, mps (default: auto)"),
    "seeds": (
        "GENPROBE_SEEDS",
        "the seeds a claim starts from: a list, a range or both, e.g. 0,1,2, 20-24 or 0-4,10 (default: the "
        "profile's seeds); while undecided, more follow the largest",
    ),
    "cache": ("GENPROBE_CACHE", "folder of cached run results (default: ~/.cache/genprobe)"),
    "report": ("GENPROBE_REPORT", "folder of the report (default: reports/<profile> under the rootdir)"),
    "scheduler": (
        "GENPROBE_SCHEDULER",
        'train on this Dask scheduler, e.g. tcp://host:8786 (pip install "genprobe[dask]")',
    ),
    "save": (
        "GENPROBE_SAVE",
        "save every verdict's per-seed values as .genprobe/NNNN_NAME.json (pytest-benchmark style)",
    ),
    "compare": ("GENPROBE_COMPARE", "compare this session with a saved one: NAME (its latest save), NNNN or a path"),
    "storage": ("GENPROBE_STORAGE", "folder of saved sessions (default: .genprobe under the rootdir)"),
}


@dataclass
class Settings:
    profile: str
    device: str
    seeds: tuple[int, ...] | None
    cache: Path | None
    report: Path
    write_report: bool
    claims: tuple[str, ...]
    scheduler: str | None = None
    save: str | None = None  # --genprobe-save NAME
    compare: str | None = None  # --genprobe-compare REF
    compare_fail: tuple = ()  # --genprobe-compare-fail METRIC:DELTA, as compare.FailRule
    storage: Path | None = None


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"genprobe_{name}")
    if value is None:
        value = os.environ.get(_OPTIONS[name][0]) or None
    return value


def _settings(config: pytest.Config) -> Settings:
    from ..profiles import PROFILES

    profile = _option(config, "profile") or "smoke"
    if profile not in PROFILES:
        raise pytest.UsageError(f"genprobe: unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    device = _option(config, "device") or "auto"
    if device.split(":")[0] not in DEVICES:
        raise pytest.UsageError(f"genprobe: unknown device {device!r}; choose from {', '.join(DEVICES)}")
    if device != "auto" and device != "cpu":
        from ..errors import GenprobeError
        from ..train import resolve_device

        try:
            resolve_device(device)
        except GenprobeError as exc:
            raise pytest.UsageError(f"genprobe: {exc}") from None
    from ..errors import GenprobeError
    from ..native import mode as ckernel_mode

    try:
        ckernel_mode()  # GENPROBE_CKERNEL, checked before anything trains
    except GenprobeError as exc:
        raise pytest.UsageError(f"genprobe: {exc}") from None
    from ..options import parse_seeds

    seeds_text = _option(config, "seeds")
    try:
        seeds = parse_seeds(seeds_text) if seeds_text else None
    except ValueError as exc:
        raise pytest.UsageError(f"genprobe: {exc}") from None
    cache = _option(config, "cache")
    report = _option(config, "report")
    from .. import compare

    save, against = _option(config, "save"), _option(config, "compare")
    fail_texts = tuple(config.getoption("genprobe_compare_fail") or ())
    try:
        if save is not None:
            compare.check_name(save)
        rules = tuple(compare.parse_fail_rule(t) for t in fail_texts)
    except GenprobeError as exc:
        raise pytest.UsageError(f"genprobe: {exc}") from None
    if rules and against is None:
        raise pytest.UsageError(
            "genprobe: --genprobe-compare-fail needs --genprobe-compare NAME (what to compare with)"
        )
    storage = _option(config, "storage")
    return Settings(
        profile=profile,
        device=device,
        seeds=seeds,
        cache=Path(cache) if cache else None,
        report=Path(report) if report else Path(config.rootpath) / "reports" / profile,
        write_report=not config.getoption("genprobe_no_report"),
        claims=tuple(config.getoption("genprobe_claim") or ()),
        scheduler=_option(config, "scheduler"),
        save=save,
        compare=against,
        compare_fail=rules,
        storage=Path(storage) if storage else Path(config.rootpath) / compare.DEFAULT_ROOT,
    )
