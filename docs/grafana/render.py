#!/usr/bin/env python3
"""Draws coffer-dashboard.json's panels from Prometheus, evaluating each panel's own queries.

Not a Grafana screenshot: every target's PromQL expression is sent, as written in the dashboard,
to Prometheus's /api/v1/query_range over the given window ($instance as every instance,
$__rate_interval as Grafana computes it: the larger of four scrape intervals and the step plus
one), and the series are drawn in the dashboard's grid (gridPos), with the panel's title, unit,
legend (legendFormat) and field overrides (unit, right axis). A panel whose queries return no
series, or only zeros, is an error: the dashboard or a metric is wrong.

Usage: render.py --prometheus URL --start UNIX --end UNIX [--step S] [--scrape S]
                 [--dashboard coffer-dashboard.json] [--out dashboard.png]
"""
import argparse
import json
import math
import re
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402


def query_range(prometheus, expr, start, end, step):
    params = urllib.parse.urlencode(
        {"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{prometheus}/api/v1/query_range?{params}", timeout=60) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"query failed: {expr}: {body}")
    return body["data"]["result"]


def substitute(expr, rate_interval):
    return (expr.replace("$__rate_interval", f"{rate_interval}s")
            .replace("$instance", ".*"))


def legend(fmt, labels):
    if not fmt:
        return json.dumps(labels)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt)


def scaled(v, base, units):
    i = 0
    while abs(v) >= base and i < len(units) - 1:
        v /= base
        i += 1
    return f"{v:.3g} {units[i]}".strip()


def formatter(unit):
    """Tick labels in Grafana's style for the dashboard's units."""
    def fmt(v, _pos=None):
        if unit == "percentunit":
            return f"{v * 100:.0f}%"
        if unit == "currencyUSD":
            return f"${v:.3g}" if v else "$0"
        if unit == "bytes":
            return scaled(v, 1024, ["B", "KiB", "MiB", "GiB", "TiB"])
        if unit == "binBps":
            return scaled(v, 1024, ["B/s", "KiB/s", "MiB/s", "GiB/s"])
        if unit == "Bps":
            return scaled(v, 1000, ["B/s", "kB/s", "MB/s", "GB/s"])
        if unit == "reqps":
            return scaled(v, 1000, ["req/s", "K req/s", "M req/s"])
        if unit == "ops":
            return scaled(v, 1000, ["ops/s", "K ops/s", "M ops/s"])
        if unit == "s":
            if v == 0:
                return "0 s"
            return f"{v * 1000:.3g} ms" if abs(v) < 1 else f"{v:.3g} s"
        return scaled(v, 1000, ["", "K", "Mil", "Bil"])
    return FuncFormatter(fmt)


def overrides(panel):
    """The panel's byName and byRegexp overrides: a function of a series' name to its
    {'unit': ..., 'right': bool}."""
    rules = []
    for o in panel.get("fieldConfig", {}).get("overrides", []):
        matcher = o.get("matcher", {})
        spec = {}
        for p in o.get("properties", []):
            if p["id"] == "unit":
                spec["unit"] = p["value"]
            if p["id"] == "custom.axisPlacement":
                spec["right"] = p["value"] == "right"
        if matcher.get("id") == "byName":
            rules.append((lambda n, o=matcher["options"]: n == o, spec))
        elif matcher.get("id") == "byRegexp":
            rules.append((lambda n, r=re.compile(matcher["options"]): r.fullmatch(n), spec))
        else:
            raise ValueError(f"panel {panel['title']}: override matcher {matcher} not drawn")

    def spec_of(name):
        found = {}
        for matches, spec in rules:
            if matches(name):
                found.update(spec)
        return found
    return spec_of


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--start", type=float, required=True)
    ap.add_argument("--end", type=float, required=True)
    ap.add_argument("--step", type=float, default=5)
    ap.add_argument("--scrape", type=float, default=5)
    ap.add_argument("--dashboard", default="docs/grafana/coffer-dashboard.json")
    ap.add_argument("--out", default="docs/grafana/dashboard.png")
    ap.add_argument("--summary", help="also write what each panel showed, as text, here")
    args = ap.parse_args()

    with open(args.dashboard) as f:
        dashboard = json.load(f)
    rate_interval = int(max(4 * args.scrape, args.step + args.scrape))
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    unit_w, unit_h = 0.85, 0.62  # inches per grid column and row
    width, height = 24 * unit_w, rows * unit_h + 0.9
    fig = plt.figure(figsize=(width, height), dpi=80, facecolor="#ffffff")
    start_s = datetime.fromtimestamp(args.start, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    end_s = datetime.fromtimestamp(args.end, timezone.utc).strftime("%H:%M:%S UTC")
    fig.text(0.01, 1 - 0.35 / height,
             f"{dashboard['title']} — {start_s} to {end_s}; drawn by docs/grafana/render.sh "
             "from Prometheus with the dashboard's own queries (not a Grafana screenshot)",
             fontsize=13, va="center")

    window = (datetime.fromtimestamp(args.start, timezone.utc),
              datetime.fromtimestamp(args.end, timezone.utc))
    minutes_per_tick = max(1, int((args.end - args.start) / 60 / 8) + 1)
    empty, summary = [], []
    for panel in panels:
        g = panel["gridPos"]
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
        by_name = overrides(panel)
        # the panel's box in figure coordinates, with room for title, ticks and legend
        left = (g["x"] * unit_w + 0.8) / width
        box_w = (g["w"] * unit_w - 1.6) / width  # room for a right axis's labels
        top = 1 - (0.9 + g["y"] * unit_h + 0.45) / height
        legend_h = 1.3
        bottom = 1 - (0.9 + (g["y"] + g["h"]) * unit_h - legend_h) / height
        ax = fig.add_axes([left, bottom, box_w, top - bottom])
        ax.set_title(panel["title"], fontsize=11, loc="left", fontweight="bold")
        right_ax = None
        lines, shown = [], []
        for target in panel["targets"]:
            expr = substitute(target["expr"], rate_interval)
            for series in query_range(args.prometheus, expr, args.start, args.end, args.step):
                name = legend(target.get("legendFormat"), series["metric"])
                xs = [datetime.fromtimestamp(float(t), timezone.utc) for t, _ in series["values"]]
                ys = [float(v) for _, v in series["values"]]
                finite = [y for y in ys if math.isfinite(y)]
                spec = by_name(name)
                axis = ax
                if spec.get("right"):
                    if right_ax is None:
                        right_ax = ax.twinx()
                        right_ax.yaxis.set_major_formatter(
                            formatter(spec.get("unit", unit)))
                        right_ax.tick_params(labelsize=8)
                    axis = right_ax
                line, = axis.plot(xs, ys, linewidth=1.4,
                                  color=f"C{len(lines) % 10}")
                lines.append((line, name + (" (right)" if axis is not ax else "")))
                peak = max(finite) if finite else float("nan")
                last = finite[-1] if finite else float("nan")
                shown.append((name, peak, last, spec.get("unit", unit)))
        ax.yaxis.set_major_formatter(formatter(unit))
        ax.set_xlim(window)
        ax.xaxis.set_major_locator(mdates.MinuteLocator(interval=minutes_per_tick))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=timezone.utc))
        ax.tick_params(labelsize=8)
        ax.grid(True, color="#e5e5e5")
        ax.set_ylim(bottom=0)
        if right_ax is not None:
            right_ax.set_ylim(bottom=0)
        if lines:
            ncol = max(1, min(len(lines), int(g["w"] * unit_w / 2.3)))
            ax.legend([l for l, _ in lines], [n for _, n in lines], loc="upper left",
                      bbox_to_anchor=(0, -0.12), ncol=ncol, fontsize=8, frameon=False,
                      handlelength=1.2, columnspacing=1.0)
        if not shown or all(not (p > 0) for _, p, _, _ in shown):
            empty.append(panel["title"])
            ax.text(0.5, 0.5, "NO DATA", transform=ax.transAxes, ha="center", color="red")
        summary.append((panel["title"], shown))

    fig.savefig(args.out, dpi=80)
    lines = []
    for title, shown in summary:
        lines.append(title)
        for name, peak, last, unit in shown:
            lines.append(f"  {name}: peak {formatter(unit)(peak)}, last {formatter(unit)(last)}")
    text = "\n".join(lines)
    print(text)
    if args.summary:
        with open(args.summary, "w") as f:
            f.write(text + "\n")
    if empty:
        print("render.py: panels with no data (a defect of the dashboard or of a metric): "
              + "; ".join(empty), file=sys.stderr)
        sys.exit(1)
    print(f"render.py: {len(panels)} panels drawn to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
