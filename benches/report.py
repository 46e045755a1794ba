#!/usr/bin/env python3
"""Turns the medians of the last `cargo bench --bench verify` into the
plot docs/benchmarks-verify.png (the bench itself prints the table).

    cargo bench --bench verify
    python3 benches/report.py            # needs matplotlib for the plot
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"


def median(*parts):
    path = CRITERION.joinpath(*parts, "new", "estimates.json")
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def show(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}×"


sizes = sorted(
    int(p.name) for p in (CRITERION / "verify" / "floor").glob("*") if p.name.isdigit()
)
print("| tokens | floor | tokenkeep | ratio to floor | prefixed-api-key | peer / tokenkeep |")
print("| ---: | ---: | ---: | ---: | ---: | ---: |")
rows = []
for size in sizes:
    floor = median("verify", "floor", str(size))
    ours = median("verify", "tokenkeep", str(size))
    peer = median("verify", "prefixed-api-key", str(size))
    rows.append((size, floor, ours, peer))
    print(f"| {size:,} | {show(floor)} | {show(ours)} | {ratio(ours, floor)} | {show(peer)} | {ratio(peer, ours)} |")

floor_1m = median("verify", "floor", "1000000")
print()
for name in ["bad-checksum", "wrong-length", "malformed-header"]:
    value = median("reject", name)
    print(f"| reject {name} | {show(value)} | {ratio(value, floor_1m)} of the 1M floor |")
one, two = median("threads", "verify", "1"), median("threads", "verify", "2")
if one and two:
    print(f"| two threads | {show(one)} per verify alone, {show(two)} per pair | {2 * one / two:.2f}× the throughput of one |")
print(f"| bcrypt cost 10 | {show(median('bcrypt', 'verify-cost-10'))} | |")
print(f"| mint tokenkeep | {show(median('mint', 'tokenkeep'))} | prefixed-api-key {show(median('mint', 'prefixed-api-key'))} |")
memory, cached, uncached = (median("cache", n) for n in ["memory", "sqlite-cached", "sqlite-uncached"])
print(f"| 10k tokens: memory {show(memory)}, SQLite cached {show(cached)} ({ratio(cached, memory)}), uncached {show(uncached)} |")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("matplotlib is not installed: table only (pip install matplotlib for the plot)")

fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
for index, (label, style) in enumerate(
    [("floor: SHA-256 + one probe", "k--"), ("tokenkeep verify_bearer", "b-o"), ("prefixed-api-key", "r-s")]
):
    points = [(size, row[index + 1]) for size, *_ in rows for row in [next(r for r in rows if r[0] == size)] if row[index + 1]]
    ax.plot([p[0] for p in points], [p[1] for p in points], style, label=label)
ax.set_xscale("log")
ax.set_xlabel("tokens in the store")
ax.set_ylabel("median time per verification (ns)")
ax.set_title("Verify against the floor and a peer (lower is better)")
ax.set_ylim(bottom=0)
ax.grid(True, which="both", alpha=0.3)
ax.legend()
fig.tight_layout()
out = ROOT / "docs" / "benchmarks-verify.png"
fig.savefig(out)
print(f"\nplot: {out.relative_to(ROOT)}")
