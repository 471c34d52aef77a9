"""Pre-registration of the claim suite (``genprobe.registration``): one command writes it.

    python benchmarks/studies/registration.py --write   # after changing what decides a test, before
                                                         # training the confirmation seeds that judge it
    python benchmarks/studies/registration.py --check   # exit 1 where the committed registration is stale

It writes ``genprobe/evidence/registration.json``: per profile and claim or control test, the digest of
everything that decides its verdict (its code and the claim code it reaches, its thresholds, the
decision rule and the gate policy) and of each part, so that a change names what moved. Commit it, then
train confirmation seeds from that commit (a clean tree): each run records the commit it was trained
from, and an export's stamp (:func:`stamp_of`) is the registration committed there. ``tests/
test_registration.py`` fails where the committed registration is stale, where an export that confirms
a test was trained from an uncommitted tree, or under another registration than the one it claims; and
the evidence (``threshold_evidence.py``) takes a test's expectation only from confirmation sets trained
under its current digest.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the checkout: genprobe, benchmarks.*

from genprobe import registration  # noqa: E402
from genprobe.calibration import read_export  # noqa: E402

EVIDENCE = ROOT / "benchmarks" / "studies" / "evidence"
#: reviewed stamps (files, profile, commit, registration_commit, digests, why): exports trained before
#: registrations existed, or whose registration's digests missed part of a definition
STAMPS = EVIDENCE / "stamps.json"


def current() -> dict[str, Any]:
    """The registration of the suite as it is in this checkout."""
    from benchmarks.studies.threshold_evidence import LAYOUTS, cases

    return registration.register(cases(), {name: layout.plan_tops for name, layout in LAYOUTS.items()})


def export_commits(path: Path) -> set[str]:
    """The commits an export's runs record they were trained from (``-dirty``: an uncommitted tree)."""
    return {str((r.get("meta") or {}).get("git_commit")) for r in read_export(path)["runs"]}


def stamp_of(path: Path, profile: str) -> dict[str, Any] | None:
    """The registration an export was trained under: its reviewed entry in :data:`STAMPS` where it has one
    (trained before registrations existed, or under a registration whose digests missed part of a
    definition: the definitions at its commit recomputed by today's digests, :func:`at_commit`), else the
    stamp ``genprobe sweep --export`` wrote into it, else the stamp its runs' commits give
    (``genprobe.registration.stamp``). None where no registration is found: trained from several
    commits, an uncommitted tree, or before any."""
    for entry in json.loads(STAMPS.read_text())["retro"] if STAMPS.exists() else ():
        if path.name in entry["files"] and entry["profile"] == profile:
            return {k: v for k, v in entry.items() if k != "files"}
    data = read_export(path)
    inline = data.get("registration")
    if inline is not None and inline.get("profile") == profile:
        return inline if inline.get("digests") else None
    found = registration.stamp(((r.get("meta") or {}).get("git_commit") for r in data["runs"]), profile)
    return found if found["digests"] else None


def at_commit(commit: str) -> dict[str, Any]:
    """The registration of the suite as it was at ``commit``, computed by today's digests (a clean checkout
    of ``commit`` in a temporary git worktree, with this checkout's ``genprobe/registration.py``): what a
    stamp in :data:`STAMPS` must hold when it says its runs were trained under the definitions there."""
    import shutil
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), commit], cwd=ROOT, check=True)
        try:
            shutil.copy(ROOT / "genprobe" / "registration.py", tree / "genprobe" / "registration.py")
            code = (
                "import json, sys; sys.path.insert(0, sys.argv[1]); "
                "from benchmarks.studies.threshold_evidence import LAYOUTS, cases; "
                "from genprobe import registration; "
                "print(json.dumps(registration.register(cases(), "
                "{n: l.plan_tops for n, l in LAYOUTS.items()})))"
            )
            if not (tree / "benchmarks" / "studies").exists():
                code = code.replace("benchmarks.studies.threshold_evidence", "benchmarks.threshold_evidence")
            out = subprocess.run(
                [sys.executable, "-c", code, str(tree)], cwd=tree, capture_output=True, text=True, check=True
            )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write genprobe/evidence/registration.json")
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed registration is stale")
    args = ap.parse_args()
    new = current()
    old = registration.load()
    moved = {p: registration.changed(old, new, p) for p in new["profiles"]}
    for profile, tests in moved.items():
        for test, parts in tests.items():
            print(f"{profile}: {test}: {', '.join(parts)}")
    if args.write:
        registration.REGISTRATION.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
        print(f"wrote {registration.REGISTRATION.relative_to(ROOT)}")
        return 0
    if args.check and any(moved.values()):
        print("the committed registration is stale: run python benchmarks/studies/registration.py --write")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
