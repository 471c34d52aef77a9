"""The C kernel's hot loops under llvm-mca: predicted cycles per iteration against the FMA bound (issue 33).

Compiles ``genprobe/native/kernel.c`` to assembly for each target CPU (the build's flags, ``-S``,
``-march=<cpu>``; a compiler that does not know the CPU gets ``-march=x86-64-v4``, said in the
table), finds its innermost loops that run 512-bit FMAs, and runs ``llvm-mca -mcpu=<cpu>`` on each
loop body. Printed per loop and CPU: the FMAs, broadcasts and other loads of one iteration, the
predicted cycles per iteration, the FMA bound (cycles the model needs for that many independent
FMAs alone: 2 a cycle on skylake-avx512; LLVM's icelake-server, sapphirerapids and znver4 models
issue one 512-bit FMA a cycle) and their ratio. Run it as a script::

    python benchmarks/studies/kernel_mca.py                    # skylake-avx512, icelake-server, znver4
    python benchmarks/studies/kernel_mca.py --source old.c     # another version of the kernel
    python benchmarks/studies/kernel_mca.py --all-loops        # every FMA loop, not only the post net's
    python benchmarks/studies/kernel_mca.py -D GP_SHARED_BROADCAST    # Intel's loop layout on every CPU

The post's net (width 30, two 16-float column vectors) spends its time in two loops: the matmul of
the forward and backward passes (8 rows x 2 column vectors: 16 FMAs an iteration) and the weight
gradient (10 input columns x 2 column vectors: 20 FMAs and the bias gradient's 2 adds). Those are
the rows marked ``*``. llvm-mca needs a version that knows the CPUs: ``znver4`` came with LLVM 16
(Debian: ``apt-get install llvm`` gives 14 on bookworm; ``llvm-19`` has it). The script takes the
newest llvm-mca it finds, or ``--llvm-mca PATH``.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "genprobe" / "native" / "kernel.c"
CPUS = ("skylake-avx512", "icelake-server", "znver4")
# the build's flags (genprobe/native/build.py), less -march, -fPIC and -shared
FLAGS = ("-O3", "-ffp-contract=off", "-std=gnu11")
MIN_FMAS = 8  # a loop with fewer 512-bit FMAs an iteration is not one of the matmul loops


def find_llvm_mca(cpus: tuple[str, ...] = CPUS) -> str | None:
    """The newest llvm-mca on this machine (on PATH, or Debian's /usr/lib/llvm-N) that knows every CPU in
    ``cpus``, or None."""
    found = [shutil.which("llvm-mca"), *glob.glob("/usr/lib/llvm-*/bin/llvm-mca")]
    found += [shutil.which(f"llvm-mca-{v}") for v in range(14, 31)]

    def version(path: str) -> list[int]:  # /usr/bin/llvm-mca -> /usr/lib/llvm-14/bin/llvm-mca: 14
        return [int(n) for n in re.findall(r"llvm-(\d+)", os.path.realpath(path))] or [0]

    for path in sorted(dict.fromkeys(p for p in found if p), key=version, reverse=True):
        res = subprocess.run([path, "-mtriple=x86_64", "-mcpu=help"], capture_output=True, text=True)
        if all(re.search(rf"\b{re.escape(c)}\b", res.stdout + res.stderr) for c in cpus):
            return path
    return None


# What a compiler too old for a CPU is given instead: the previous generation plus the CPU's
# AVX-512 (GCC 12.2's -march=native on a Zen 4 is znver3 with these), else x86-64-v4.
AVX512 = "-mavx512f -mavx512cd -mavx512vl -mavx512bw -mavx512dq -mavx512ifma -mavx512vbmi -mavx512vbmi2"
AVX512 += " -mavx512vnni -mavx512bitalg -mavx512vpopcntdq -mavx512bf16"
FALLBACKS = {"znver4": f"-march=znver3 {AVX512}", "znver5": f"-march=znver3 {AVX512}"}


def compile_asm(source: Path, cpu: str, cc: list[str], defines: tuple[str, ...] = ()) -> tuple[str, str]:
    """(assembly, the -march used) of ``source`` for ``cpu``."""
    for march in (f"-march={cpu}", FALLBACKS.get(cpu, "-march=x86-64-v4"), "-march=x86-64-v4"):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "kernel.s"
            cmd = [*cc, *FLAGS, *march.split(), *(f"-D{d}" for d in defines), "-S", "-o", str(out), str(source)]
            if subprocess.run(cmd, capture_output=True).returncode == 0:
                return out.read_text(), march.split()[0].removeprefix("-march=") + (" +avx512" if " " in march else "")
    raise RuntimeError(f"{shlex.join(cc)} cannot compile {source} for -march={cpu} or x86-64-v4")


@dataclass
class Loop:
    body: list[str]  # instructions, the closing branch included

    @property
    def fmas(self) -> int:
        return sum(1 for i in self.body if re.match(r"vfn?m(add|sub)\d+ps", i) and "%zmm" in i)

    @property
    def broadcasts(self) -> int:
        return sum(1 for i in self.body if "{1to16}" in i or (i.startswith("vbroadcastss") and "(" in i))

    @property
    def loads(self) -> int:
        """Vector loads besides the broadcasts."""
        return sum(1 for i in self.body if re.match(r"vmov(aps|ups|dqa32|dqu32)\s+[^,]*\(", i) and "%zmm" in i)

    @property
    def adds(self) -> int:
        return sum(1 for i in self.body if i.startswith("vaddps") and "%zmm" in i)

    @property
    def _broadcast_addresses(self) -> list[tuple[str, int]]:
        """(base and index registers, displacement) of each broadcast's memory operand."""
        out = []
        for i in self.body:
            if "{1to16}" in i or (i.startswith("vbroadcastss") and "(" in i):
                m = re.search(r"(-?\d*)\(([^)]*)\)", i)
                if m:
                    out.append((m.group(2), int(m.group(1) or 0)))
        return out

    @property
    def stride(self) -> int | None:
        """Bytes between consecutive broadcasts' addresses where they differ by a constant only, else None
        (4: the weight gradient's consecutive input columns; 4 x A's row stride: a matmul's rows)."""
        addr = self._broadcast_addresses
        if len(addr) < 3 or len({base for base, _ in addr}) != 1:
            return None
        disps = sorted({d for _, d in addr})
        steps = [b - a for a, b in zip(disps, disps[1:])]  # the most common: the first may precede a pointer bump
        step = max(set(steps), key=steps.count)
        return step if steps.count(step) >= len(steps) - 1 else None

    @property
    def kind(self) -> str:
        if self.adds or self.stride == 4:
            return "weight gradient"
        return f"matmul ({'row stride in registers' if self.stride is None else f'rows {self.stride} B apart'})"

    @property
    def signature(self) -> tuple[str, ...]:
        """The loop's instructions with registers blanked: copies of one loop compare equal."""
        return tuple(re.sub(r"%\w+|\.L\w+", "_", i) for i in self.body)

    def text(self) -> str:
        return "mca_loop:\n" + "\n".join(self.body[:-1]) + f"\n{self.body[-1].split()[0]} mca_loop\n"


def innermost_loops(asm: str) -> list[Loop]:
    """Loops (a label, a backward branch to it, no label between) with at least MIN_FMAS FMAs, one each."""
    lines = [ln.split("#")[0].strip() for ln in asm.splitlines()]
    labels: dict[str, int] = {}
    loops: dict[tuple[str, ...], Loop] = {}
    for n, ln in enumerate(lines):
        if m := re.match(r"^(\.L\w+):$", ln):
            labels[m.group(1)] = n
        elif (m := re.match(r"^j\w+\s+(\.L\w+)$", ln)) and m.group(1) in labels and labels[m.group(1)] < n:
            body = [b for b in lines[labels[m.group(1)] + 1 : n + 1] if b and not b.startswith(".")]
            if any(re.match(r"^\.L\w+:$", b) for b in lines[labels[m.group(1)] + 1 : n]):
                continue  # not innermost
            loop = Loop(body)
            if loop.fmas >= MIN_FMAS:
                loops.setdefault(loop.signature, loop)
    return list(loops.values())


def mca_cycles(llvm_mca: str, cpu: str, text: str, iterations: int = 1000) -> float:
    """llvm-mca's predicted cycles per iteration of ``text`` on ``cpu``."""
    res = subprocess.run(
        [llvm_mca, "-mtriple=x86_64", f"-mcpu={cpu}", f"-iterations={iterations}"],
        input=text,
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise RuntimeError(f"llvm-mca -mcpu={cpu} failed: {res.stderr.strip()}")
    m = re.search(r"Total Cycles:\s+(\d+)", res.stdout)
    if not m:
        raise RuntimeError(f"no 'Total Cycles' in llvm-mca's output:\n{res.stdout}")
    return int(m.group(1)) / iterations


def fma_bound(llvm_mca: str, cpu: str, fmas: int) -> float:
    """Cycles the model needs for ``fmas`` independent register FMAs: the loop's floor on this CPU."""
    body = "".join(f"vfmadd231ps %zmm30, %zmm31, %zmm{i % 24}\n" for i in range(fmas))
    return mca_cycles(llvm_mca, cpu, f"mca_loop:\n{body}jne mca_loop\n")


def hot_loops(loops: list[Loop]) -> set[int]:
    """Indices of the post net's loops: the matmuls over A's 32-float rows (128 B) and the weight
    gradient's, each the one with the most FMAs (its 30 input columns split evenly: a full block)."""
    hot: set[int] = set()
    matmul = [lp for lp in loops if lp.kind.startswith("matmul")]
    at_32 = any(lp.stride == 128 for lp in matmul)  # else an older kernel, its strides in registers
    for pick in (
        lambda lp: lp.kind.startswith("matmul") and (lp.stride == 128 or not at_32),
        lambda lp: lp.kind.startswith("weight"),
    ):
        idx = [n for n, lp in enumerate(loops) if pick(lp)]
        if idx:
            most = max(loops[n].fmas for n in idx)
            hot |= {n for n in idx if loops[n].fmas == most}
    return hot


def analyse(
    source: Path,
    cpus: tuple[str, ...],
    llvm_mca: str,
    cc: list[str],
    all_loops: bool = False,
    defines: tuple[str, ...] = (),
) -> list[dict]:
    """One row per (CPU, distinct loop): the post net's two loops, or with ``all_loops`` every FMA loop."""
    rows, seen = [], set()
    for cpu in cpus:
        asm, march = compile_asm(source, cpu, cc, defines)
        loops = innermost_loops(asm)
        hot = hot_loops(loops)
        for n, loop in enumerate(loops):
            if not (all_loops or n in hot):
                continue
            cycles = mca_cycles(llvm_mca, cpu, loop.text())
            key = (cpu, loop.kind, loop.fmas, loop.broadcasts, loop.loads, loop.adds, round(cycles, 2))
            if key in seen:  # the same loop inlined in another place
                continue
            seen.add(key)
            bound = fma_bound(llvm_mca, cpu, loop.fmas)
            rows.append(
                dict(
                    cpu=cpu,
                    march=march,
                    loop=f"{'* ' if n in hot else ''}{loop.kind}",
                    fmas=loop.fmas,
                    broadcasts=loop.broadcasts,
                    loads=loop.loads,
                    adds=loop.adds,
                    uops=len(loop.body),
                    cycles=cycles,
                    bound=bound,
                    two_port=loop.fmas / 2,
                    ratio=cycles / bound,
                )
            )
    return rows


def table(rows: list[dict]) -> str:
    head = (
        f"{'cpu':<15} {'-march':<21} {'loop':<39} {'FMAs':>4} {'bcast':>5} {'loads':>5} {'adds':>4} {'instr':>5}"
        f" {'cycles/it':>9} {'FMA bound':>9} {'ratio':>6} {'(2/cycle)':>9}"
    )
    out = [head]
    for r in rows:
        out.append(
            f"{r['cpu']:<15} {r['march']:<21} {r['loop']:<39} {r['fmas']:>4} {r['broadcasts']:>5} {r['loads']:>5}"
            f" {r['adds']:>4} {r['uops']:>5} {r['cycles']:>9.2f} {r['bound']:>9.2f} {r['ratio']:>6.2f}"
            f" {r['two_port']:>9.1f}"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=Path, default=SOURCE, help="the kernel source (default: genprobe's)")
    ap.add_argument("--cpu", action="append", help=f"llvm-mca -mcpu (repeatable; default {', '.join(CPUS)})")
    ap.add_argument("--llvm-mca", help="the llvm-mca to run (default: the newest found that knows the CPUs)")
    ap.add_argument("--all-loops", action="store_true", help="every FMA loop, not only the post net's two")
    ap.add_argument(
        "-D",
        dest="defines",
        action="append",
        default=[],
        help="a macro for the compiler: -D GP_EMBEDDED_BROADCAST (or GP_SHARED_BROADCAST) picks a layout",
    )
    args = ap.parse_args(argv)
    cpus = tuple(args.cpu or CPUS)
    llvm_mca = args.llvm_mca or find_llvm_mca(cpus)
    if not llvm_mca:
        print(f"no llvm-mca that knows {', '.join(cpus)} (Debian: apt-get install llvm-19)", file=sys.stderr)
        return 2
    cc = shlex.split(os.environ.get("CC", "cc"))
    rows = analyse(args.source, cpus, llvm_mca, cc, args.all_loops, tuple(args.defines))
    version = subprocess.run([llvm_mca, "--version"], capture_output=True, text=True).stdout
    ver = re.search(r"version\s+([\d.]+)", version)
    defs = "".join(f" -D{d}" for d in args.defines)
    print(
        f"{args.source.name}: {shlex.join(cc)} {' '.join(FLAGS)}{defs} -S; {llvm_mca} ({ver.group(1) if ver else '?'})"
    )
    print(table(rows))
    print(
        "ratio: predicted cycles per iteration / the model's cycles for the loop's FMAs alone; * the post net's loops"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
