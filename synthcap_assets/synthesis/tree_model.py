"""MST's final estimate in numpy: mirror descent over a tree of pairwise marginals, and its sampler.

MST measures every one-way marginal and the pairs of a spanning tree, then fits a graphical
model to the noisy measurements (private-pgm's ``mirror_descent``) and samples from it. Here
the model is tiny (a few columns of at most a few dozen codes) and a tree, so private-pgm's
JAX path spent its time compiling (a dozen or more XLA compilations per fit, new each time
because the noisy measurements are baked into the compiled loss): most of a partition's
synthesis time. This module runs the same algorithm in numpy, with no compilation:

- the same loss, ``sum_m ||(P_m mu - y_m) / sigma_m||^2 / 2`` over the measurements;
- the same initial step ``2 / (L * total)``, ``L`` estimated by the same 50 power iterations;
- the same Armijo line search (step x1.01 after a sufficient decrease, x0.5 otherwise) and the
  same number of iterations;
- exact marginals of the tree model by belief propagation (private-pgm's junction tree on a
  tree of pairs is the same computation), here in probability space with each edge's
  potential shifted by its maximum;
- private-pgm's sampler (``synthetic_data``, randomized rounding): the root column rounded to
  its marginal, each further column drawn given its parent by stratified uniforms per parent
  value.

Everything here is post-processing of the noisy measurements: the privacy guarantee is MST's.
``fit_tree`` returns ``None`` when the measurements are not a tree of pairs (then the caller
uses private-pgm). Agreement with private-pgm's estimate: ``synthcap_tests/synthesis/
test_tree_model.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

POWER_ITERATIONS = 50


@dataclass(frozen=True)
class _Measurement:
    clique: tuple[str, ...]
    y: np.ndarray  # shaped like the marginal it measures
    sigma: float


@dataclass
class TreeModel:
    """A fitted tree model: ``marginals[(a, b)]`` sums to ``total`` for every edge ``(a, b)``."""

    sizes: dict[str, int]
    edges: list[tuple[str, str]]
    marginals: dict[tuple[str, str], np.ndarray]
    total: float

    def one_way(self, attr: str) -> np.ndarray:
        """The marginal of ``attr`` (from the first edge that holds it)."""
        for a, b in self.edges:
            if attr in (a, b):
                return self.marginals[a, b].sum(axis=1 if attr == a else 0)
        raise KeyError(attr)

    def sample(self, rows: int) -> pd.DataFrame:
        """``rows`` codes per column, drawn as private-pgm's ``synthetic_data`` draws them
        (numpy's global generator: the caller seeds it)."""
        total = max(1, int(rows))
        order, parent = _walk(list(self.sizes), self.edges)
        data: dict[str, np.ndarray] = {}
        for col in order:
            up = parent.get(col)
            if up is None:
                data[col] = _round_to(self.one_way(col), total)
                continue
            joint = (
                self.marginals[up, col]
                if (up, col) in self.marginals
                else self.marginals[col, up].T
            )
            data[col] = _draw_given(joint, data[up], total)
        return pd.DataFrame({c: data[c].astype(np.int64) for c in self.sizes})


def fit_tree(
    sizes: Mapping[str, int], measurements: Sequence, total: float, iters: int
) -> TreeModel | None:
    """Mirror descent on ``measurements`` (private-pgm ``LinearMeasurement``s with the default
    identity query) over the tree their pairs form; ``None`` when they do not form a forest of
    pairs covering every one-way clique."""
    parsed = []
    for m in measurements:
        query = getattr(m, "query", None)
        if query is not None and getattr(query, "__name__", "") != "datavector":
            return None
        clique = tuple(m.clique)
        shape = tuple(int(sizes[c]) for c in clique)
        y = np.asarray(m.noisy_measurement, dtype=np.float64)
        if len(clique) not in (1, 2) or y.size != int(np.prod(shape)):
            return None
        parsed.append(_Measurement(clique, y.reshape(shape), float(max(m.stddev, 1e-12))))
    edges = _maximal_pairs([m.clique for m in parsed])
    if edges is None or not _is_forest(list(sizes), edges):
        return None
    if any(len(m.clique) == 1 and not any(m.clique[0] in e for e in edges) for m in parsed):
        return None
    return _mirror_descent(dict(sizes), edges, parsed, float(total), iters)


def _maximal_pairs(cliques: list[tuple[str, ...]]) -> list[tuple[str, str]] | None:
    """The pairs, in private-pgm's ``maximal_subset`` order (longest first, then as given)."""
    pairs: list[tuple[str, str]] = []
    for clique in sorted(cliques, key=len, reverse=True):
        if len(clique) == 2 and not any(set(clique) <= set(p) for p in pairs):
            if clique[0] == clique[1]:
                return None
            pairs.append((clique[0], clique[1]))
    return pairs or None


def _is_forest(attrs: list[str], edges: list[tuple[str, str]]) -> bool:
    root = {a: a for a in attrs}

    def find(a: str) -> str:
        while root[a] != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra == rb:
            return False
        root[ra] = rb
    return True


def _walk(attrs: list[str], edges: list[tuple[str, str]]) -> tuple[list[str], dict[str, str]]:
    """Attributes in breadth-first order from each component's first attribute, with parents."""
    nbrs: dict[str, list[str]] = {a: [] for a in attrs}
    for a, b in edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    order: list[str] = []
    parent: dict[str, str] = {}
    seen: set[str] = set()
    for start in attrs:
        if start in seen:
            continue
        seen.add(start)
        queue = [start]
        while queue:
            node = queue.pop(0)
            order.append(node)
            for nxt in nbrs[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    parent[nxt] = node
                    queue.append(nxt)
    return order, parent


class _Tree:
    """Belief propagation on a forest of pairwise potentials (probability space).

    The message schedule (upward pass, then back down) and, for every message and belief,
    which messages it multiplies are fixed by the tree, so they are worked out once here:
    a fit computes the marginals about two thousand times."""

    def __init__(self, attrs: list[str], edges: list[tuple[str, str]], total: float) -> None:
        self.edges, self.total = edges, total
        order, parent = _walk(attrs, edges)
        index = {e: i for i, e in enumerate(edges)}
        # Upward pass: children before parents; each step sends along one edge.
        up: list[tuple[int, str, str]] = []  # (edge index, from attr, to attr)
        for node in reversed(order):
            if node in parent:
                p = parent[node]
                up.append((index.get((node, p), index.get((p, node))), node, p))
        schedule = up + [(i, dst, src) for i, src, dst in reversed(up)]
        # Messages are numbered in the order they are sent; each one into ``attr`` along
        # edge ``i`` is (i, attr). A message or belief multiplies every message already sent
        # into its attribute along the other edges, in the order they were sent.
        sent: list[tuple[int, str]] = []

        def inputs(attr: str, skip: int) -> list[int]:
            return [k for k, (i, into) in enumerate(sent) if into == attr and i != skip]

        self.sends: list[tuple[int, bool, list[int]]] = []  # (edge, transposed, inputs)
        for i, src, dst in schedule:
            self.sends.append((i, edges[i][0] != src, inputs(src, i)))
            sent.append((i, dst))
        self.beliefs = [(inputs(a, i), inputs(b, i)) for i, (a, b) in enumerate(edges)]
        self.attrs = attrs

    def marginals(self, theta: list[np.ndarray]) -> list[np.ndarray]:
        """Each edge's marginal of the model ``p(x) ~ exp(sum_e theta_e)``, summing to total."""
        factors = [np.exp(t - t.max()) for t in theta]
        messages: list[np.ndarray] = []

        def product(keys: list[int], size: int) -> np.ndarray:
            if not keys:
                return np.ones(size)
            out = messages[keys[0]]
            for k in keys[1:]:
                out = out * messages[k]
            return out

        for i, transposed, keys in self.sends:
            f = factors[i].T if transposed else factors[i]  # rows: from, columns: to
            msg = product(keys, f.shape[0]) @ f
            messages.append(msg / msg.sum())
        out = []
        for f, (left, right) in zip(factors, self.beliefs, strict=True):
            belief = product(left, f.shape[0])[:, None] * f * product(right, f.shape[1])[None, :]
            out.append(belief * (self.total / belief.sum()))
        return out


def _mirror_descent(
    sizes: dict[str, int],
    edges: list[tuple[str, str]],
    measurements: list[_Measurement],
    total: float,
    iters: int,
) -> TreeModel:
    # Where each measurement reads the model: its own edge, or (one-way) the first edge holding
    # its attribute, summed over the other axis (private-pgm's CliqueVector.project).
    reads = []
    for m in measurements:
        if len(m.clique) == 2:
            i = edges.index(m.clique) if m.clique in edges else edges.index(m.clique[::-1])
            reads.append((i, None if m.clique in edges else "T"))
        else:
            i = next(k for k, e in enumerate(edges) if m.clique[0] in e)
            reads.append((i, 1 if edges[i][0] == m.clique[0] else 0))
    # Each measurement as (edge, how it reads it, y, 1/sigma): the loss is computed with
    # multiplications by the inverse, as often as the line search needs it.
    terms = [(i, how, m.y, 1.0 / m.sigma) for m, (i, how) in zip(measurements, reads, strict=True)]

    def loss_and_grad(mu: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        loss, grad = 0.0, [np.zeros_like(x) for x in mu]
        for i, how, y, inv in terms:
            x = mu[i] if how is None else mu[i].T if how == "T" else mu[i].sum(axis=how)
            diff = (x - y) * inv
            loss += 0.5 * float(np.vdot(diff, diff))
            g = diff * inv
            if how is None:
                grad[i] += g
            elif how == "T":
                grad[i] += g.T
            else:
                grad[i] += np.expand_dims(g, how)
        return loss, grad

    shapes = [(sizes[a], sizes[b]) for a, b in edges]
    lipschitz = _lipschitz(shapes, loss_and_grad)
    tree = _Tree(list(sizes), edges, total)
    theta = [np.zeros(s) for s in shapes]
    alpha = 2.0 / (lipschitz * total)
    mu = tree.marginals(theta)
    loss, grad = loss_and_grad(mu)
    for _ in range(iters):
        theta2 = [t - alpha * g for t, g in zip(theta, grad, strict=True)]
        mu2 = tree.marginals(theta2)
        # The candidate's gradient comes with its loss: most steps are taken, and then it is
        # the next step's gradient.
        loss2, grad2 = loss_and_grad(mu2)
        step = sum(float(np.vdot(g, x - y)) for g, x, y in zip(grad, mu, mu2, strict=True))
        if loss - loss2 >= 0.5 * alpha * step:
            alpha *= 1.01
            theta, mu, loss, grad = theta2, mu2, loss2, grad2
        else:
            alpha *= 0.5
    return TreeModel(
        sizes=sizes,
        edges=edges,
        marginals=dict(zip(edges, tree.marginals(theta), strict=True)),
        total=total,
    )


def _lipschitz(shapes: list[tuple[int, int]], loss_and_grad) -> float:
    """The largest eigenvalue of the (constant) Hessian of the quadratic loss, by private-pgm's
    power iteration from the all-ones vector: ``H v = grad(v) - grad(0)``."""
    zero = [np.zeros(s) for s in shapes]
    _, g0 = loss_and_grad(zero)
    v = [np.ones(s) for s in shapes]
    norm = np.sqrt(sum(float(np.vdot(x, x)) for x in v))
    v = [x / norm for x in v]
    estimate = 1.0
    for _ in range(POWER_ITERATIONS):
        _, g = loss_and_grad(v)
        hv = [a - b for a, b in zip(g, g0, strict=True)]
        estimate = np.sqrt(sum(float(np.vdot(x, x)) for x in hv))
        v = [x / (estimate + 1e-12) for x in hv]
    return float(estimate) or 1.0


def _round_to(counts: np.ndarray, total: int) -> np.ndarray:
    """private-pgm's randomized rounding of a marginal to ``total`` values, shuffled."""
    counts = np.asarray(counts, dtype=np.float64) * (total / counts.sum())
    frac, whole = np.modf(counts)
    whole = whole.astype(int)
    extra = total - whole.sum()
    if extra > 0:
        idx = np.random.choice(counts.size, extra, False, frac / frac.sum())
        whole[idx] += 1
    values = np.repeat(np.arange(counts.size), whole)
    np.random.shuffle(values)
    return values


def _draw_given(joint: np.ndarray, parent: np.ndarray, total: int) -> np.ndarray:
    """Codes of a column given its parent's codes: within each parent value's rows, stratified
    uniforms ``(rank + u) / n`` read through the conditional CDF (private-pgm's rounding)."""
    rows_sum = joint.sum(axis=1, keepdims=True)
    cond = np.divide(joint, rows_sum, out=np.zeros_like(joint), where=rows_sum != 0)
    cdfs = cond.cumsum(axis=1)
    order = np.argsort(parent, kind="stable")
    counts = np.bincount(parent, minlength=joint.shape[0])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ranks = np.empty(total, dtype=np.int64)
    ranks[order] = np.arange(total) - starts[parent[order]]
    u = (ranks + np.random.rand(total)) / counts[parent]
    out = np.empty(total, dtype=np.int64)
    for value in np.nonzero(counts)[0]:
        rows = parent == value
        out[rows] = np.searchsorted(cdfs[value], u[rows], side="right")
    return np.minimum(out, joint.shape[1] - 1)
