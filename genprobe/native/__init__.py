"""genprobe's native code: the fused C training kernel, in one place.

* ``kernel.c``: the kernel (loss and gradients, and the forward, of B
  independent MLPs on the CPU, float32);
* :mod:`.interface`: its three entry points, declared once by name and type
  (``tests/test_native.py`` checks the declaration against ``kernel.c``);
* :mod:`.build`: compiles it on first use into a cache and loads it
  (``GENPROBE_CKERNEL``, ``GENPROBE_CKERNEL_MARCH``, ``GENPROBE_KERNEL_CACHE``).

:class:`genprobe.fastmlp.FastMLPStep` is its only user.
"""

from __future__ import annotations

from .build import Kernel, load, mode, unavailable_reason

__all__ = ["Kernel", "load", "mode", "unavailable_reason"]
