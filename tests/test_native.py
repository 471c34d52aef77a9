"""The C kernel's entry points are declared once (native/interface.py), and kernel.c agrees with it."""

from __future__ import annotations

import ctypes
import re

import pytest

from genprobe.native import build, interface
from genprobe.native.interface import FUNCTIONS

# a definition of an entry point: `int gp_name(...) {` / `long gp_name(...) {` at the start of a line
_DEFINITION = re.compile(r"^(?P<returns>int|long)\s+(?P<symbol>gp_\w+)\s*\((?P<params>[^)]*)\)\s*\{", re.MULTILINE)


def _c_type(text: str) -> str:
    """One spelling of a C type: single spaces, each ``*`` bound to what follows it (``const float *const *``)."""
    return re.sub(r"\s+", " ", re.sub(r"\s*\*\s*", " *", text)).strip()


def _prototypes() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """symbol -> (return type, [(name, C type), ...]) for every gp_ function defined in kernel.c."""
    found: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for m in _DEFINITION.finditer(build.SOURCE.read_text()):
        params = []
        for param in m["params"].split(","):
            parsed = re.fullmatch(r"\s*(?P<type>.*?[\s*])(?P<name>\w+)\s*", param)
            assert parsed, f"cannot parse parameter {param!r} of {m['symbol']}"
            params.append((parsed["name"], _c_type(parsed["type"])))
        assert m["symbol"] not in found, f"{m['symbol']} defined twice"
        found[m["symbol"]] = (m["returns"], params)
    return found


def test_kernel_c_defines_exactly_the_declared_entry_points_with_their_names_order_and_types():
    protos = _prototypes()
    assert sorted(protos) == sorted(fn.symbol for fn in FUNCTIONS)
    for fn in FUNCTIONS:
        returns, params = protos[fn.symbol]
        assert returns == fn.returns, fn.symbol
        assert params == [(p.name, _c_type(p.c)) for p in fn.params], fn.symbol
        assert all(p.c == _c_type(p.c) for p in fn.params), f"{fn.symbol}: spell the C types as kernel.c does"


def test_no_other_function_of_kernel_c_is_exported():
    """Everything but the gp_ entry points is static: nothing undeclared can be called."""
    text = build.SOURCE.read_text()
    defs = re.findall(r"^([A-Za-z_][\w \t*]*?)\b(\w+)\s*\([^;{]*\)\s*\{", text, re.MULTILINE)
    assert len(defs) > len(FUNCTIONS)  # the static helpers are found too
    assert sorted(name for head, name in defs if not head.startswith("static")) == sorted(f.symbol for f in FUNCTIONS)


def test_ctypes_types_follow_from_the_c_types():
    assert interface.ctype_of("int") is ctypes.c_int
    assert interface.ctype_of("long") is ctypes.c_long
    assert interface.ctype_of("float") is ctypes.c_float
    assert interface.ctype_of("const float *const *") is ctypes.c_void_p
    with pytest.raises(ValueError, match="double"):
        interface.ctype_of("double")
    for fn in FUNCTIONS:
        assert len(fn.argtypes) == len(fn.params) and fn.restype in (ctypes.c_int, ctypes.c_long)
    assert interface.FORWARD.prototype().startswith("int gp_forward(int L, const int *dims, int lo,")


def test_arguments_are_taken_by_name_and_checked():
    fn = interface.WORKSPACE_FLOATS
    assert fn.args({"tile": 64, "dims": "d", "L": 3}) == [3, "d", 64]  # the C order, whatever the call's
    with pytest.raises(TypeError, match=r"gp_workspace_floats\(L, dims, tile\): missing tile$"):
        fn.args({"L": 3, "dims": "d"})
    with pytest.raises(TypeError, match=r"missing tile; unknown tiles$"):
        fn.args({"L": 3, "dims": "d", "tiles": 64})
    with pytest.raises(TypeError, match=r": unknown extra$"):
        fn.args({"L": 3, "dims": "d", "tile": 64, "extra": 1})


def test_the_loaded_kernel_is_typed_from_the_declaration():
    kernel = build.load()
    if kernel is None:
        pytest.skip(f"C kernel unavailable: {build.unavailable_reason()}")
    for fn in FUNCTIONS:
        c = kernel._fns[fn.symbol]
        assert c.argtypes == fn.argtypes and c.restype is fn.restype
    dims = (ctypes.c_int * 3)(2, 30, 1)
    n = kernel.workspace_floats(L=2, dims=dims, tile=64)
    assert n > 0 and kernel.call(interface.WORKSPACE_FLOATS, tile=64, dims=dims, L=2) == n
    assert kernel.workspace_floats(L=2, dims=dims, tile=12) == -1  # not a multiple of 8
    with pytest.raises(TypeError, match=r"gp_forward\(L, dims, lo, .*\): missing lo, hi, "):
        kernel.forward(L=2, dims=dims)


def test_kernel_mca_hot_loops_are_near_the_fma_bound():
    """benchmarks/studies/kernel_mca.py (issue 33): llvm-mca's cycles per iteration of the post net's two
    hot loops within 20 % of the FMA bound on skylake-avx512 and znver4. Skipped without a C compiler or
    an llvm-mca that knows both CPUs (LLVM >= 16)."""
    from benchmarks.studies import kernel_mca

    cpus = ("skylake-avx512", "znver4")
    llvm_mca = kernel_mca.find_llvm_mca(cpus)
    if llvm_mca is None:
        pytest.skip("no llvm-mca that knows skylake-avx512 and znver4 on PATH")
    try:
        rows = kernel_mca.analyse(kernel_mca.SOURCE, cpus, llvm_mca, build._compiler())
    except RuntimeError as e:
        pytest.skip(f"cannot compile the kernel for these CPUs: {e}")
    for cpu in cpus:
        kinds = {r["loop"].split(" (")[0] for r in rows if r["cpu"] == cpu}
        assert kinds == {"* matmul", "* weight gradient"}, (cpu, kinds)
    assert all(r["ratio"] <= 1.2 for r in rows), kernel_mca.table(rows)
