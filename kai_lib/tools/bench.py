"""Benchmarks, measured and reported, never enforced by a timed test.

    python -m kai_lib.tools.bench          # slider latency of explore(), animation rendering, basin maps
                                     # (and the network: a digits epoch, a moons widget update)

Slider latency is the time from setting a slider's value to the widget holding the new
picture (the run of ``steps`` steps, the redraw and the PNG encoding), measured in the
kernel process. What the browser adds on top (the comm message and drawing a ~60 KB
image) is not included.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import matplotlib
import numpy as np

from .. import optimizers, surfaces
from ..pictures import styles
from ..pictures.animation import animate, gif_bytes, jshtml
from ..pictures.widgets import explore
from ..runner import MAX_STEPS, run
from ..studies import races
from ..studies.basins import basin_map, start_grid  # noqa: E402


def slider_latency(optimizer_name: str, surface: str, steps: int = 300, changes: int = 40) -> list[float]:
    """Seconds per slider change: ``changes`` moves of the lr slider (gamma for AdaDelta)."""
    w = explore(optimizers.ALL[optimizer_name], surface, steps=steps)
    name = "lr" if "lr" in w.sliders else "gamma"
    slider = w.sliders[name]
    if name == "lr":
        values = 10 ** np.linspace(slider.min, slider.min + 0.75 * (slider.max - slider.min), changes)
    else:
        values = np.linspace(0.5, 0.95, changes)
    times = []
    for value in values:
        start = time.perf_counter()
        slider.value = float(value)
        times.append(time.perf_counter() - start)
        assert w.trajectory.steps <= steps
    return times


def basins_cost(n: int = 200, steps: int = 500) -> dict[str, tuple[float, float]]:
    """Seconds and peak traced MB of the Himmelblau basin maps: ``"seven"`` (every slide
    optimizer at :data:`kai_lib.studies.races.BASINS` settings, ``record_every=steps``), and SGD
    alone both ways: ``"SGD thinned"`` and ``"SGD full path"`` (``record_every=1``)."""
    b = races.BASINS["himmelblau"]
    grid = start_grid(b.surface, n)

    def measure(work):
        tracemalloc.start()
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        return seconds, peak

    sgd = b.settings["SGD"]
    return {
        "seven": measure(lambda: [basin_map(optimizers.ALL[name](**kw), b.surface, n=n, steps=steps)
                                  for name, kw in b.settings.items()]),
        "SGD thinned": measure(lambda: run(optimizers.SGD(**sgd), b.surface, start=grid, steps=steps,
                                           record_every=steps)),
        "SGD full path": measure(lambda: run(optimizers.SGD(**sgd), b.surface, start=grid, steps=steps)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kai_lib.tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="steps per run (default 300)")
    args = parser.parse_args(argv)
    if not 1 <= args.steps <= MAX_STEPS:
        parser.error(f"--steps must be an integer in [1, {MAX_STEPS}], got {args.steps}")
    # the command line draws off screen; importing this module (from a notebook) leaves the backend alone
    matplotlib.use("Agg")

    print(f"slider change -> new picture, {args.steps}-step run (median / 90th percentile over 40 changes)")
    for name, surface in [("SGD", "ravine"), ("Momentum", "beale"), ("Adam", "beale"), ("AdaDelta", "long_valley"),
                          ("Nadam", "rosenbrock")]:
        times = slider_latency(name, surface, steps=args.steps)
        p90 = sorted(times)[int(0.9 * len(times))]
        print(f"  {name:9s} on {surface:12s} {1000 * statistics.median(times):6.1f} ms / {1000 * p90:6.1f} ms")

    s = surfaces.BEALE
    trajs = {n: run(optimizers.ALL[n](), s, steps=300) for n in optimizers.SLIDES}
    style = styles.current()  # what show() uses: the committed GIF, and the live player
    for label, render, dpi in (("GIF", gif_bytes, style.gif_dpi), ("jshtml player", jshtml, style.player_dpi)):
        start = time.perf_counter()
        out = render(animate(s, trajs, frames=60), dpi=dpi)
        print(f"{label}: 7 racing paths, 60 frames at {dpi} dpi: {time.perf_counter() - start:.2f} s, "
              f"{len(out) / 1024:.0f} KiB")

    cost = basins_cost()
    (seven_s, seven_mb), (thin_s, thin_mb), (full_s, full_mb) = cost.values()
    print(f"basins: 7 slide optimizers x 200x200 starts x 500 steps on Himmelblau, record_every=500: "
          f"{seven_s:.2f} s, peak {seven_mb:.0f} MB (target < 5 s, < 100 MB)")
    print(f"  SGD alone: record_every=500 {thin_s:.2f} s, {thin_mb:.0f} MB; full path {full_s:.2f} s, "
          f"{full_mb:.0f} MB: x{full_s / thin_s:.1f} the time, x{full_mb / thin_mb:.0f} the memory")
    network_times()
    return 0


def network_times(repeats: int = 5) -> None:
    """One epoch of digits at batch 32 (target < 50 ms), and one update of the moons widget (< 1 s)."""
    from .. import data, nn
    from ..studies import moons

    X_train, X_test, y_train, y_test = data.digits()
    net = nn.MLP([64, 32, 10], seed=0)
    for name in ("SGD", "Adam"):
        hist = nn.train(optimizers.ALL[name](lr=0.01), net, X_train, y_train, epochs=10 * repeats, batch_size=32)
        per_epoch = np.diff(hist.seconds)
        print(f"digits epoch, MLP [64, 32, 10], batch 32 ({len(X_train)} images), {name:4s}: "
              f"median {1000 * statistics.median(per_epoch):5.1f} ms, max {1000 * per_epoch.max():5.1f} ms "
              f"over {len(per_epoch)} epochs")
    w = moons.explore()
    for change in (dict(optimizer="Adam"), dict(batch_size=10, epochs=100), dict(hidden=64), dict(optimizer="SGD")):
        times = []
        for _ in range(repeats):
            w.update(**change)
            times.append(w.seconds)
        print(f"moons widget update {change}: median {1000 * statistics.median(times):6.1f} ms, "
              f"max {1000 * max(times):6.1f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
