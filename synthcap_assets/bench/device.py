"""Kernel-only profile benchmark for an accelerator (issue 13, item 6): the JAX kernels on
arrays generated on the device, timed against the device's memory bandwidth measured in the
same run.

Run it from the repository root with nothing but JAX (and numpy) installed::

    python synthcap_assets/bench/device.py --rows 50000000 --json $OUT/device.json

(``python -m synthcap_assets.bench.device`` also works where the package's own dependencies
are installed: ``-m`` first runs ``synthcap_assets/__init__``, which imports Dagster's
``dagster_shared``; the file path does not.) What it does:

1. Generates ``--columns`` × ``--rows`` float32 columns on the device with ``jax.random`` (and
   float64 too where JAX runs with x64: on the CPU, as the kernels' runtime does there, or with
   ``--x64``): normal with offsets, log-normal, integers with ties, signed Pareto (heavy tails),
   ``1e4 + noise`` (the normal ones sharing a factor, so that they correlate); ``--null-rate``
   (5%) NaN as nulls; rows padded with NaN to a multiple of 32,768 (the kernels' row blocks;
   the production path pads to a shape bucket likewise).
2. Measures the memory bandwidth: a jitted ``x.sum()`` (bytes read) and ``x + 1`` (bytes read
   plus written) over a ``--bandwidth-mb`` float32 array, best of 10 (or ``--repeat``) after a
   warm-up; the faster of the two is the reference.
3. Times each kernel family, best of ``--repeat`` after a compile warm-up, on the accelerator
   path of the production kernels: ``moments.moments``; ``distinct.registers`` (HLL);
   ``histogram.bucket_pass`` at level 1 (``level_one`` from the moments' min/max); the full
   quantile summary (``refine``'s refinement loop over JAX bucket passes, host syncs between
   levels included: what ``refine.refined_summary`` runs off the CPU); ``correlation``'s Pearson
   sums (rows × columns plus a validity mask, as ``_prepare`` hands them over). Per family:
   seconds, bytes read once (the table, or table and mask), GB/s and the fraction of the
   measured bandwidth, i.e. the one-pass floor ÷ the time.
4. Checks the results against numpy float64 on the same arrays (copied to the host): moments
   (counts, min, max exact; mean and variance to a dtype tolerance), HLL estimates against
   exact distinct counts (within 4%), level-1 bucket totals, quantile knots within their
   stated rank bound, Pearson r. A failed check prints FAIL and exits 1.

Why the imports look odd: the kernel modules import ``synthcap_resources.compute`` (Dagster,
polars) and their numba CPU loops (``moments_cpu``, ``distinct_cpu``) at module level, and
``synthcap_assets/__init__`` imports ``dagster_shared``. The accelerator path calls none of
them, so ``load_kernels`` registers the two packages without running their ``__init__``, a
stand-in ``compute`` whose ``runtime()`` configures JAX as the real one does (platform from
``SYNTHCAP_JAX_PLATFORM``, x64 on the CPU) and whose other names raise if called, and stand-ins
for the two numba modules that raise on any use. Modules already imported (a synthcap process)
are used as they are. Nothing else outside jax and numpy is imported (the tests check).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("moments", "registers", "level1", "summary", "pearson")
PAD = 1 << 15  # rows are padded to a multiple of this (the Pearson chunk; 2 × BLOCK_ROWS)
PLATFORM_ENV = "SYNTHCAP_JAX_PLATFORM"  # the same variable as synthcap_resources.compute
KINDS = ("normal", "lognormal", "ties", "pareto", "offset")
HLL_TOLERANCE = 0.04  # relative; p = 14 gives 0.81% standard error, so ~5 sigma
# Check tolerances per dtype: mean error beyond the mean's own ulp ÷ std, relative variance
# error, Pearson r absolute.
TOLERANCE = {
    "float32": {"mean": 1e-5, "var": 1e-4, "r": 1e-5},
    "float64": {"mean": 1e-10, "var": 1e-10, "r": 1e-10},
}
_SETTINGS: dict[str, Any] = {"x64": None}  # None: on for the CPU only


# ---------------------------------------------------------------- loading the kernels alone


@dataclass(frozen=True)
class ShimRuntime:
    """What ``synthcap_resources.compute.runtime()`` returns, for the stand-in module."""

    platform: str
    dtype: np.dtype
    device_count: int

    @property
    def x64(self) -> bool:
        return self.dtype == np.float64


@cache
def _runtime() -> ShimRuntime:
    """``compute.runtime`` without Dagster: the platform from ``SYNTHCAP_JAX_PLATFORM`` (else
    JAX's choice), x64 on the CPU and off elsewhere unless ``--x64``/``--no-x64`` says."""
    import jax

    wanted = os.environ.get(PLATFORM_ENV, "").strip().lower()
    if wanted:
        jax.config.update("jax_platforms", wanted)
    backend = jax.default_backend()
    x64 = backend == "cpu" if _SETTINGS["x64"] is None else _SETTINGS["x64"]
    jax.config.update("jax_enable_x64", x64)
    dtype = np.dtype(np.float64 if backend == "cpu" else np.float32)
    return ShimRuntime(platform=backend, dtype=dtype, device_count=jax.device_count())


def _absent(module: str, name: str) -> Callable[..., Any]:
    def absent(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{module}.{name} is not loaded by the device benchmark")

    absent.__name__ = name
    return absent


def _stand_in(name: str, doc: str, attrs: dict[str, Any] | None = None) -> types.ModuleType:
    module = types.ModuleType(name, doc)
    module.__spec__ = ModuleSpec(name, None)
    for key, value in (attrs or {}).items():
        setattr(module, key, value)

    def missing(attr: str) -> Any:
        raise AttributeError(f"{name}.{attr}: not loaded by the device benchmark")

    module.__getattr__ = missing  # type: ignore[method-assign]
    return module


def _bare_package(name: str) -> types.ModuleType:
    """The package ``name`` from the working tree, without running its ``__init__``."""
    path = str(ROOT / name)
    spec = ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [path]
    module = types.ModuleType(name, f"{name} (bare: loaded by the device benchmark)")
    module.__spec__, module.__path__, module.__package__ = spec, [path], name
    return module


def _install(name: str, module: types.ModuleType) -> None:
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)


def load_kernels() -> types.SimpleNamespace:
    """The JAX kernel modules, imported with jax and numpy only (see the module docstring)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for package in ("synthcap_assets", "synthcap_resources"):
        if package not in sys.modules:
            _install(package, _bare_package(package))
    if "synthcap_resources.compute" not in sys.modules:
        names = ("FloatColumn", "cpu_workers", "bucket_size", "pad_rows")
        attrs: dict[str, Any] = {n: _absent("synthcap_resources.compute", n) for n in names}
        attrs.update(runtime=_runtime, PLATFORM_ENV=PLATFORM_ENV)
        doc = "synthcap_resources.compute's runtime() alone (device benchmark stand-in)"
        _install("synthcap_resources.compute", _stand_in("synthcap_resources.compute", doc, attrs))
    for name in ("moments_cpu", "distinct_cpu"):
        full = f"synthcap_assets.kernels.{name}"
        if full not in sys.modules:
            doc = "the numba CPU loops: not loaded by the device benchmark"
            _install(full, _stand_in(full, doc))
    sys.modules["synthcap_resources.compute"].runtime()  # configure JAX before any tracing
    from synthcap_assets.kernels import correlation, distinct, histogram, moments, refine

    return types.SimpleNamespace(
        moments=moments,
        distinct=distinct,
        histogram=histogram,
        refine=refine,
        correlation=correlation,
    )


# ---------------------------------------------------------------- data and timing


def padded_rows(rows: int) -> int:
    return max(PAD, -(-rows // PAD) * PAD)


def generate(columns: int, rows: int, dtype: Any, null_rate: float, seed: int = 0) -> Any:
    """A (columns × padded rows) block made on the device: column j is of kind
    ``KINDS[j % 5]``, ``null_rate`` of its rows NaN, the padding NaN."""
    import jax
    import jax.numpy as jnp

    padded = padded_rows(rows)

    def column(key: jax.Array, j: int, common: jax.Array) -> jax.Array:
        k1, k2 = jax.random.split(jax.random.fold_in(key, j))
        kind = KINDS[j % len(KINDS)]
        # normal, log-normal and offset columns share a factor (r = 0.36 between two normal
        # ones), so that Pearson has correlations to get right, not only zeros
        z = 0.6 * common + 0.8 * jax.random.normal(k1, (padded,), dtype)
        if kind == "normal":
            v = z * (1.0 + j) + j
        elif kind == "lognormal":
            v = jnp.exp(z)
        elif kind == "ties":
            v = jnp.floor(jax.random.uniform(k1, (padded,), dtype) * 1000.0)
        elif kind == "pareto":  # tail index 3: finite variance, heavy fourth moment
            u = jax.random.uniform(k1, (padded,), dtype, minval=1e-6, maxval=1.0)
            v = jnp.where(jnp.arange(padded) % 2 == 0, 1.0, -1.0).astype(dtype) * u ** (-1 / 3)
        else:
            v = 1e4 + z
        null = jax.random.uniform(k2, (padded,)) < null_rate
        return jnp.where(null | (jnp.arange(padded) >= rows), jnp.nan, v).astype(dtype)

    def make(key: jax.Array) -> jax.Array:
        common = jax.random.normal(jax.random.fold_in(key, 1 << 20), (padded,), dtype)
        return jnp.stack([column(key, j, common) for j in range(columns)])

    make = jax.jit(make)
    return jax.block_until_ready(make(jax.random.key(seed)))


@dataclass
class Timing:
    seconds: float  # best of the repeats, wall
    median_s: float
    compile_s: float  # the warm-up call (compilation included)
    cpu_s: float  # process CPU seconds of the best repeat (all threads)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Timing, Any]:
    """Best-of-``repeat`` wall time of ``fn`` (results blocked on) after one warm-up call."""
    import jax

    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    compile_s = time.perf_counter() - t0
    walls, cpus = [], []
    for _ in range(max(1, repeat)):
        c0, t0 = time.process_time(), time.perf_counter()
        out = jax.block_until_ready(fn())
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    best = int(np.argmin(walls))
    return Timing(walls[best], float(np.median(walls)), compile_s, cpus[best]), out


def measure_bandwidth(megabytes: int, repeat: int) -> dict[str, float]:
    """GB/s (1e9 bytes) of a jitted sum (read) and ``x + 1`` (read + write) over a float32
    array of ``megabytes`` MiB; ``gbps`` is the faster, the reference for the fractions."""
    import jax
    import jax.numpy as jnp

    n = megabytes * (1 << 20) // 4
    x = jax.block_until_ready(jax.jit(lambda: jnp.arange(n, dtype=jnp.float32) * 1e-9)())
    total = jax.jit(lambda a: a.sum())
    copy = jax.jit(lambda a: a + 1.0)
    read, _ = timed(lambda: total(x), repeat)
    both, _ = timed(lambda: copy(x), repeat)
    nbytes = float(x.nbytes)
    read_gbps, copy_gbps = nbytes / read.seconds / 1e9, 2 * nbytes / both.seconds / 1e9
    return {
        "bytes": nbytes,
        "sum_s": read.seconds,
        "copy_s": both.seconds,
        "read_gbps": read_gbps,
        "copy_gbps": copy_gbps,
        "gbps": max(read_gbps, copy_gbps),
    }


@dataclass
class Row:
    family: str
    dtype: str
    seconds: float
    median_s: float
    compile_s: float
    cpu_s: float
    bytes: float
    gbps: float
    fraction: float = float("nan")
    passes: int = 1
    check: str = "not run"
    detail: dict[str, float] = field(default_factory=dict)
    error: str | None = None


# ---------------------------------------------------------------- kernels and checks


def run_dtype(
    k: types.SimpleNamespace,
    dtype: Any,
    args: argparse.Namespace,
    bandwidth: float,
) -> list[Row]:
    """Time every family on one generated block of ``dtype``; check the results if asked. A
    family that raises gets an ERROR row and the others still run (one try on a lent device)."""
    import jax
    import jax.numpy as jnp

    name = np.dtype(dtype).name
    x = generate(args.columns, args.rows, dtype, args.null_rate, args.seed)
    table_bytes = float(x.nbytes)
    results: dict[str, Any] = {}
    rows: list[Row] = []

    def add(family: str, fn: Callable[[], Any], nbytes: float) -> None:
        try:
            timing, out = timed(fn, args.repeat)
        except Exception as exc:  # noqa: BLE001 - recorded in the row, the run goes on
            nan = float("nan")
            error = f"{type(exc).__name__}: {exc}"
            rows.append(Row(family, name, nan, nan, nan, nan, nbytes, nan, nan, check="ERROR"))
            rows[-1].error = error
            print(f"{family:<10} {name:<8} ERROR {error}", flush=True)
            return
        results[family] = out
        gbps = nbytes / timing.seconds / 1e9
        row = Row(family, name, **asdict(timing), bytes=nbytes, gbps=gbps)
        row.fraction = gbps / bandwidth
        rows.append(row)
        print(_line(row), flush=True)

    def needs_moments() -> Any:
        if "moments" not in results:
            raise RuntimeError("needs the moments family's min/max/count, which failed")
        return results["moments"]

    depth = [0]

    def passes(levels: tuple) -> Any:
        depth[0] = max(depth[0], len(levels))
        return k.histogram.bucket_pass(x, levels)

    def summary() -> Any:
        state = needs_moments()
        return k.refine._refine(passes, state.count, state.minimum, state.maximum)

    add("moments", lambda: k.moments.moments(x, args.rows), table_bytes)
    add("registers", lambda: k.distinct.registers(x), table_bytes)
    try:
        state = needs_moments()
        levels = (k.histogram.level_one(state.minimum, state.maximum),)
        add("level1", lambda: k.histogram.bucket_pass(x, levels), table_bytes)
    except RuntimeError:
        add("level1", needs_moments, table_bytes)
    add("summary", summary, table_bytes)
    rows[-1].passes = depth[0]
    # Pearson takes rows × columns and a validity mask (correlation._prepare's layout).
    xt = jax.block_until_ready(jax.jit(jnp.transpose)(x))
    valid = jax.block_until_ready(jnp.isfinite(xt))
    add("pearson", lambda: k.correlation._pearson_sums(xt, valid), table_bytes + valid.nbytes)
    if args.check:
        started = time.perf_counter()
        checks = check_results(k, np.asarray(x[:, : args.rows]), results, name)
        print(f"  checks against numpy float64 ({time.perf_counter() - started:.1f} s):")
        for row in rows:
            if row.family in checks:
                row.check, row.detail = checks[row.family]
            print(
                f"  {row.family:<10} {row.dtype:<8} {row.check}  "
                + " ".join(f"{a}={b:.3g}" for a, b in row.detail.items()),
                flush=True,
            )
    return rows


def _pearson_numpy(x: np.ndarray) -> np.ndarray:
    """Pairwise-complete Pearson r (columns × columns) of a (columns × rows) float64 array with
    NaN as null: per pair, the rows valid in both, each column centred on its own mean first."""
    w = np.isfinite(x)
    mean = np.nanmean(np.where(w, x, np.nan), axis=1)
    z = np.where(w, x - mean[:, None], 0.0)
    wf = w.astype(np.float64)
    n = wf @ wf.T
    s = z @ wf.T  # s[i, j]: sum of z_i over rows valid in i and j
    ss = (z * z) @ wf.T
    cross = z @ z.T
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = cross - s * s.T / n
        var = ss - s * s / n
        r = cov / np.sqrt(var * var.T)
    np.fill_diagonal(r, 1.0)
    return r


Verdict = tuple[str, dict[str, float]]


def check_results(
    k: types.SimpleNamespace, host: np.ndarray, results: dict[str, Any], name: str
) -> dict[str, Verdict]:
    """Compare each family's result in ``results`` with numpy float64 on the same values (the
    host copy); a check that raises is an ERROR verdict."""
    tol = TOLERANCE[name]
    x = host.astype(np.float64)
    valid = np.isfinite(x)
    count = valid.sum(axis=1)
    masked = np.where(valid, x, np.nan)
    low, high = np.nanmin(masked, axis=1), np.nanmax(masked, axis=1)

    def moments(state: Any) -> Verdict:
        stats = k.moments.moment_stats(state)
        mean, std = np.nanmean(masked, axis=1), np.nanstd(masked, axis=1, ddof=1)
        var = std * std
        # The mean is allowed its own rounding on top (a float32 mean near 1e4 is only held to
        # ±4.9e-4): the check is on the error beyond eps·|mean| (about an ulp), ÷ the std.
        ulp = np.finfo(stats["mean"].dtype).eps * np.abs(mean)
        error = np.abs(stats["mean"] - mean)
        mean_err = float(np.max(error / std))
        beyond = float(np.max(np.maximum(error - ulp, 0.0) / std))
        var_err = float(np.max(np.abs(stats["var"] - var) / var))
        ok = (
            np.array_equal(stats["count"], count)
            and np.array_equal(stats["min"], low)
            and np.array_equal(stats["max"], high)
            and beyond <= tol["mean"]
            and var_err <= tol["var"]
        )
        return _verdict(ok), {
            "mean_err_std": mean_err,
            "beyond_ulp_std": beyond,
            "var_rel_err": var_err,
        }

    def registers(regs: Any) -> Verdict:
        estimate = k.distinct.hll_estimate(np.asarray(regs))
        exact = np.array([np.unique(row[np.isfinite(row)] + 0.0).size for row in x])
        hll_err = float(np.max(np.abs(estimate - exact) / np.maximum(exact, 1)))
        return _verdict(hll_err <= HLL_TOLERANCE), {"hll_rel_err": hll_err}

    def level1(out: Any) -> Verdict:
        buckets = jax_tree_numpy(out)
        ok = (
            np.array_equal(buckets.count.sum(axis=1), count)
            and np.array_equal(buckets.low.min(axis=1).astype(np.float64), low)
            and np.array_equal(buckets.high.max(axis=1).astype(np.float64), high)
        )
        return _verdict(ok), {"buckets": float(buckets.count.shape[1])}

    def summary(out: Any) -> Verdict:
        return _check_summary(k, jax_tree_numpy(out[0]), masked)  # (summary, level-1 buckets)

    def pearson(sums: Any) -> Verdict:
        state = k.correlation.PearsonState(*(np.asarray(a) for a in sums))
        r, expected = state.correlation().matrix, _pearson_numpy(x)
        # NaN where numpy has an r: the kernel judged the pair's precision lost (its floor
        # 1e3·eps·count·scale² on m2: in float32, a column whose farthest value lies more than
        # ~90 standard deviations from its mean); counted apart from the error of the others.
        one_sided = np.isnan(r) != np.isnan(expected)
        both = ~np.isnan(r) & ~np.isnan(expected)
        r_err = float(np.max(np.abs(r - expected)[both], initial=0.0))
        ok = r_err <= tol["r"] and not one_sided.any()
        return _verdict(ok), {"r_abs_err": r_err, "nan_pairs": float(one_sided.sum() // 2)}

    checks = {
        "moments": moments,
        "registers": registers,
        "level1": level1,
        "summary": summary,
        "pearson": pearson,
    }
    out: dict[str, Verdict] = {}
    for family, check in checks.items():
        if family in results:
            try:
                out[family] = check(results[family])
            except Exception as exc:  # noqa: BLE001 - recorded, the other checks go on
                out[family] = ("ERROR", {})
                print(f"  check {family}: {type(exc).__name__}: {exc}", flush=True)
    return out


def _check_summary(k: types.SimpleNamespace, summary: Any, masked: np.ndarray) -> Verdict:
    """Eleven knots per column (every tenth of the summary) must lie between the values of
    rank ``t - error`` and ``t + error`` (t the knot's rank, error the stated bound)."""
    import jax.numpy as jnp

    ranks = np.asarray(k.refine.knot_ranks(jnp.asarray(summary.count)))
    picks = np.linspace(0, ranks.shape[1] - 1, 11).round().astype(int)
    worst, bound = 0.0, float(np.max(summary.error / np.maximum(summary.count, 1)))
    ok = True
    for j, row in enumerate(masked):
        values = row[np.isfinite(row)]
        n = values.size
        if n == 0:
            continue
        err = float(summary.error[j])
        lo = np.clip(np.floor(ranks[j, picks] - err), 0, n - 1).astype(int)
        hi = np.clip(np.ceil(ranks[j, picks] + err), 0, n - 1).astype(int)
        part = np.partition(values, np.unique(np.concatenate([lo, hi])))
        knot = summary.values[j, picks].astype(np.float64)
        slack = 4 * np.finfo(summary.values.dtype).eps * np.abs(knot)
        ok &= bool(np.all((part[lo] - slack <= knot) & (knot <= part[hi] + slack)))
        spread = np.maximum(part[-1] - part[0], 1e-300)
        worst = max(worst, float(np.max(np.maximum(part[lo] - knot, knot - part[hi]) / spread)))
    return _verdict(ok), {"rank_bound": bound, "outside_spread": max(worst, 0.0)}


def jax_tree_numpy(tree: Any) -> Any:
    import jax

    return jax.tree.map(np.asarray, tree)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


# ---------------------------------------------------------------- the command


def _line(row: Row) -> str:
    return (
        f"{row.family:<10} {row.dtype:<8} {row.seconds:>10.5f} {row.median_s:>10.5f} "
        f"{row.compile_s:>9.3f} {row.bytes / 1e9:>8.3f} {row.gbps:>9.2f} {row.fraction:>8.3f}"
        f" {row.passes:>6}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python synthcap_assets/bench/device.py",
        description="Kernel-only profile benchmark on generated arrays (JAX accelerator path).",
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--null-rate", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs after the warm-up")
    parser.add_argument("--bandwidth-mb", type=int, default=1024, help="MiB for the bandwidth")
    parser.add_argument(
        "--x64",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="JAX x64 (float64 rows too, float64 merged states); default as the kernels' "
        "runtime: on for the CPU, off elsewhere. --no-x64 on the CPU runs as on an accelerator",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--check",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compare with numpy float64 on the host (default on)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.columns < 2 or args.repeat < 1 or args.bandwidth_mb < 1:
        parser.error("--rows ≥ 1, --columns ≥ 2, --repeat ≥ 1 and --bandwidth-mb ≥ 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    _SETTINGS["x64"] = args.x64
    k = load_kernels()
    import jax

    device = jax.devices()[0]
    dtypes = [np.float32] + ([np.float64] if jax.config.jax_enable_x64 else [])
    print(
        f"device: {device.device_kind} ({jax.default_backend()}), jax {jax.__version__}, "
        f"x64 {bool(jax.config.jax_enable_x64)}; {args.columns} columns × {args.rows:,} rows "
        f"(padded {padded_rows(args.rows):,}), {args.null_rate:.0%} null",
        flush=True,
    )
    bandwidth = measure_bandwidth(args.bandwidth_mb, max(10, args.repeat))  # cheap: best of 10+
    print(
        f"bandwidth: sum {bandwidth['read_gbps']:.1f} GB/s, copy {bandwidth['copy_gbps']:.1f}"
        f" GB/s over {bandwidth['bytes'] / 1e9:.2f} GB; reference {bandwidth['gbps']:.1f} GB/s",
        flush=True,
    )
    print(
        f"{'family':<10} {'dtype':<8} {'best s':>10} {'median s':>10} {'warm-up':>9} "
        f"{'GB read':>8} {'GB/s':>9} {'fraction':>8} {'passes':>6}",
        flush=True,
    )
    rows: list[Row] = []
    for dtype in dtypes:
        try:
            rows += run_dtype(k, dtype, args, bandwidth["gbps"])
        except Exception as exc:  # noqa: BLE001 - e.g. out of memory: keep the other dtype's rows
            nan = float("nan")
            name = np.dtype(dtype).name
            rows.append(Row("generate", name, nan, nan, nan, nan, nan, nan, check="ERROR"))
            rows[-1].error = f"{type(exc).__name__}: {exc}"
            print(f"{name}: ERROR {rows[-1].error}", flush=True)
    ok = not any(row.check in ("FAIL", "ERROR") for row in rows)
    report = {
        "device": device.device_kind,
        "platform": jax.default_backend(),
        "device_count": jax.device_count(),
        "jax": jax.__version__,
        "x64": bool(jax.config.jax_enable_x64),
        "dtypes": [np.dtype(d).name for d in dtypes],
        "rows": args.rows,
        "padded_rows": padded_rows(args.rows),
        "columns": args.columns,
        "null_rate": args.null_rate,
        "repeat": args.repeat,
        "bandwidth": bandwidth,
        "results": [asdict(row) for row in rows],
        "ok": ok,
    }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    if not ok:
        print("FAIL: a family raised, or its result differs from numpy beyond its tolerance")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
