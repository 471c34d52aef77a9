"""Options shared by the command line and the pytest plugin; knows neither.

Each parser raises ``ValueError`` with one line naming the bad value, so
argparse (``type=``) and the plugin (a usage error) report it the same way.
"""

from __future__ import annotations

__all__ = ["DEVICES", "parse_seeds"]

#: the devices ``--device`` / ``--genprobe-device`` take (``cuda:1`` names one GPU)
DEVICES = ("auto", "cpu", "cuda", "mps")


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` or ``"0-4"`` -> seeds; raises ValueError naming the bad value.

    >>> parse_seeds("0-2,7")
    (0, 1, 2, 7)
    """
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1)
                seeds.extend(range(int(lo), int(hi) + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise ValueError(f"bad seed {part!r} in {text!r}: use integers like 0,1,2 or 0-4") from None
    if not seeds or any(s < 0 for s in seeds):
        raise ValueError(f"bad seeds {text!r}: need one or more integers >= 0")
    return tuple(dict.fromkeys(seeds))
