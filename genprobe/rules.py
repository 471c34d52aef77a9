"""The registry of untrained rules: the baselines a net is compared with.

A rule draws a picture from the training set alone, with no training: the
1-nearest-neighbour rule (``knn``) and the dot memoriser (``dot``) are the
built-in ones; the suite's near-miss controls add two more, shipped here
(``blur``, blurred dots, and ``disks``, disks inside the 1-NN rule's black;
see :data:`SHIPPED`). It is a run like any other (``RunSpec(model=name)``,
``genprobe.baseline(name, n)`` in a test, ``genprobe baseline NAME`` on the
command line), scored with the same metrics on the same points as the net::

    import numpy as np
    from genprobe import rules

    def white(ts, points):                    # ts: the TrainingSet, points: (M, 2) float32 (x, y)
        return np.ones(len(points), np.float32)   # grey at each point (0 black, 1 white)

    rules.register("white", white, title="all white")

Its parameters are the run's ``model_kwargs`` (``RunSpec(model="myrule",
model_kwargs={"radius": 3})`` calls ``predict(ts, points, radius=3)``), except
``knn``'s ``k``, a spec field of its own since before the registry. A rule's
cache key holds a digest of its function's source, so editing it recomputes
its runs. Register at import time of a module every process imports (your
``conftest.py``): a registration made inside a test is not seen by xdist or
Dask workers. An unknown name is an error, never another rule's picture.

The trained controls (shuffled labels, random Fourier features) are not rules:
they are ``mlp`` specs (:class:`genprobe.runs.RunSpec`).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from .errors import GenprobeError
from .sampling import TrainingSet, grid_coords

__all__ = [
    "Rule",
    "RULES",
    "SHIPPED",
    "register",
    "unregister",
    "get",
    "predict_knn",
    "predict_dot",
    "predict_blur",
    "predict_disks",
]

#: ``predict(ts, points, **params)``: (M,) grey at the (M, 2) points (x, y) in [0, 1)
Predict = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Rule:
    """One untrained rule.

    ``predict(ts, points, **params)`` gives grey values at points. ``picture(ts, res, **params)``,
    where given, draws the (res, res) picture instead of ``predict`` at the grid's points, and
    ``on_training(ts, **params)`` the prediction at the training points (default: ``predict`` there).
    ``exact_grid``: its metrics are computed on the true image's own grid, whatever the evaluation grid
    (the dot memoriser's dots are exact pixels there). ``version``: bump to recompute its cached runs.
    """

    name: str
    predict: Predict
    title: str
    picture: Callable[..., np.ndarray] | None = None
    on_training: Callable[..., np.ndarray] | None = None
    exact_grid: bool = False
    version: int = 1
    builtin: bool = False

    def draw(self, ts: TrainingSet, res: int, params: Mapping[str, Any]) -> np.ndarray:
        """The (res, res) float32 picture."""
        if self.picture is not None:
            img = self.picture(ts, res, **params)
        else:
            img = self.predict(ts, grid_coords(res), **params)
        return self._checked(img, (res, res), f"its picture at {res}^2")

    def at_training(self, ts: TrainingSet, params: Mapping[str, Any]) -> np.ndarray:
        """(N,) float32: the rule's grey at its own training points."""
        if self.on_training is not None:
            pred = self.on_training(ts, **params)
        else:
            pred = self.predict(ts, ts.coords, **params)
        return self._checked(pred, (len(ts),), "its prediction at the training points")

    def _checked(self, values: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
        arr = np.asarray(values, dtype=np.float32)
        if arr.size != int(np.prod(shape)):
            raise GenprobeError(f"rule {self.name!r} returned {arr.size} values for {what}, expected {np.prod(shape)}")
        if not np.isfinite(arr).all():
            raise GenprobeError(f"rule {self.name!r} returned non-finite values for {what}")
        return arr.reshape(shape)

    @property
    def digest(self) -> str:
        """sha256 of the source of the rule's functions (a user rule's cache key holds it)."""
        h = hashlib.sha256()
        for fn in (self.predict, self.picture, self.on_training):
            if fn is None:
                continue
            try:
                src = inspect.getsource(fn)
            except (OSError, TypeError):  # defined where no source is kept (the REPL): its name
                src = getattr(fn, "__qualname__", repr(fn))
            h.update(src.encode())
        return h.hexdigest()[:16]


#: every untrained rule by name: ``knn``, ``dot``, and any registered
RULES: dict[str, Rule] = {}


def register(
    name: str,
    predict: Predict,
    *,
    title: str | None = None,
    picture: Callable[..., np.ndarray] | None = None,
    on_training: Callable[..., np.ndarray] | None = None,
    exact_grid: bool = False,
    version: int = 1,
) -> Rule:
    """Register the untrained rule ``name`` (see the module's docstring); returns it.

    Re-registering a user rule under its name replaces it; a built-in or shipped one cannot be replaced."""
    if not isinstance(name, str) or not name.isidentifier():
        raise GenprobeError(f"a rule's name is a Python identifier, got {name!r}")
    if name in ("mlp", "net", "fourier", "shuffled"):
        raise GenprobeError(f"{name!r} names a trained model, not an untrained rule")
    if name in RULES and (RULES[name].builtin or name in SHIPPED):
        raise GenprobeError(f"{name!r} is a built-in rule; register yours under another name")
    if not callable(predict):
        raise GenprobeError(f"rule {name!r}: predict must be callable, got {type(predict).__name__}")
    rule = Rule(name, predict, title or name, picture, on_training, exact_grid, version)
    RULES[name] = rule
    return rule


def unregister(name: str) -> None:
    """Remove a rule registered with :func:`register` (a built-in or shipped one stays)."""
    if name in RULES and (RULES[name].builtin or name in SHIPPED):
        raise GenprobeError(f"{name!r} is a built-in rule and cannot be removed")
    if name not in RULES:
        raise GenprobeError(f"no rule {name!r} to remove; registered: {', '.join(RULES)}")
    del RULES[name]


def get(name: str) -> Rule:
    """The rule ``name``; an unknown name is an error naming the known ones."""
    try:
        return RULES[name]
    except KeyError:
        raise GenprobeError(f"no untrained rule {name!r}; have {', '.join(RULES)}") from None


# -- the built-in rules -------------------------------------------------------------------------------


def predict_knn(ts: TrainingSet, points: np.ndarray, k: int = 1) -> np.ndarray:
    """Mean grey of the k nearest training points, for each (M, 2) point."""
    k = min(k, len(ts))
    _, nn = cKDTree(ts.coords).query(points, k=k)
    nn = nn.reshape(len(points), k)
    return ts.targets[nn].mean(axis=1)


def predict_dot(ts: TrainingSet, res: int) -> np.ndarray:
    """(res, res) white image, black at the grid pixel of each black training point."""
    img = np.ones((res, res), dtype=np.float32)
    img[ts.grid_pixels(res, ts.targets < 0.5)] = 0.0
    return img


def _dot_at(ts: TrainingSet, points: np.ndarray) -> np.ndarray:
    """Black exactly at the pixels of black training points, white elsewhere (on the true image's grid)."""
    h, w = ts.truth.shape
    black = np.zeros(h * w, dtype=bool)
    black[ts.indices[ts.targets < 0.5]] = True
    rows = np.clip(np.rint(points[:, 1] * h).astype(np.int64), 0, h - 1)
    cols = np.clip(np.rint(points[:, 0] * w).astype(np.int64), 0, w - 1)
    return np.where(black[rows * w + cols], 0.0, 1.0).astype(np.float32)


RULES["knn"] = Rule("knn", predict_knn, "the 1-NN rule", builtin=True)
RULES["dot"] = Rule(
    "dot",
    _dot_at,
    "the dot memoriser",
    picture=lambda ts, res: predict_dot(ts, res),
    on_training=lambda ts: np.where(ts.targets < 0.5, 0.0, 1.0).astype(np.float32),
    exact_grid=True,
    version=2,  # 2: metrics on the true image's own grid, the same at every evaluation grid
    builtin=True,
)


# -- the near-miss controls' rules (benchmarks/test_controls.py) --------------------------------------
#
# Shipped with genprobe and not replaceable, but keyed like a registered rule (by their source, so an edit
# recomputes their runs) and taking parameters (``model_kwargs``): the pinned keys of knn and dot are
# untouched. Both are local and untrained: each draws black only around its own black training points, so
# neither has any bias to the ring beyond what the points show. That is the property every shape claim
# names; the controls use them, at a radius or reach each states, to show a claim's check refutes a
# model that draws nearly what the net draws but lacks the property.


def _black_tree(ts: TrainingSet) -> tuple[np.ndarray, cKDTree | None]:
    black = ts.coords[ts.targets < 0.5].astype(np.float64)
    return black, (cKDTree(black) if len(black) else None)


def predict_blur(ts: TrainingSet, points: np.ndarray, radius: float = 0.01) -> np.ndarray:
    """Blurred dots: black within ``radius`` (image widths) of a black training point, white elsewhere.

    The dot memoriser with each dot widened to a disk (the gallery's ``blurred-dots`` is this at 0.01,
    drawn on the grid): it memorises its points and spreads each alike in every direction, so it draws
    pieces where its points are and nothing between them that a shape would fill in.
    """
    black, tree = _black_tree(ts)
    if tree is None:
        return np.ones(len(points), np.float32)
    dist, _ = tree.query(np.asarray(points, dtype=np.float64))
    return np.where(dist <= float(radius), 0.0, 1.0).astype(np.float32)


def predict_disks(ts: TrainingSet, points: np.ndarray, reach: float = 0.5) -> np.ndarray:
    """Disks around each black training point, reaching ``reach`` of the way to that point's nearest white
    training point.

    At ``reach <= 0.5`` every disk lies inside the black training point's share of the 1-NN rule's black
    (a point within half the distance to the nearest white point is nearer its black centre than any white
    point), so it never draws more than 1-NN and differs from it only in leaving out the cells' corners:
    a local interpolator a little weaker than 1-NN. Larger reaches cross into the white points' cells.
    """
    black, tree = _black_tree(ts)
    if tree is None:
        return np.ones(len(points), np.float32)
    white = ts.coords[ts.targets >= 0.5].astype(np.float64)
    radius = cKDTree(white).query(black)[0] * float(reach) if len(white) else np.full(len(black), np.inf)
    pts = np.asarray(points, dtype=np.float64)
    # every (point, black point) pair within the largest radius, then each pair against its own disk
    pairs = cKDTree(pts).sparse_distance_matrix(tree, float(np.max(radius)), output_type="ndarray")
    inside = np.zeros(len(pts), dtype=bool)
    hit = pairs["v"] <= radius[pairs["j"]]
    inside[pairs["i"][hit]] = True
    # a point on a black training point (distance 0) is not listed as a pair: it is black too
    dist, _ = tree.query(pts)
    inside |= dist == 0.0
    return np.where(inside, 0.0, 1.0).astype(np.float32)


def _shipped(name: str, predict: Predict, title: str) -> None:
    RULES[name] = Rule(name, predict, title)


#: the rules genprobe ships for its near-miss controls, besides the built-in knn and dot: not replaceable,
#: keyed by their source, with parameters (``g.baseline("blur", 312, radius=0.03)``)
SHIPPED: frozenset[str] = frozenset({"blur", "disks"})
_shipped("blur", predict_blur, "blurred dots")
_shipped("disks", predict_disks, "disks inside the 1-NN rule's black")
