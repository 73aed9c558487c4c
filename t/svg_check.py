#!/usr/bin/env python3
# t/svg_check.py - check a janus-bots --svg picture against the JSON reports
# it was drawn from.
#
# Usage: svg_check.py SVG [LABEL=]REPORT...   (reports in the picture's order)
# Prints one line per check, "PASS what" or "FAIL what: why", always the
# same CHECKS lines, for t/lib.sh's tap_lines to number; exit status 0 if
# every check passed.
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
TOL = 0.02   # px: coordinates are printed to 0.01
CHECKS = [
    'the SVG is well-formed XML with an svg root',
    'one curve per report',
    'each curve has its label',
    'each curve counts the report\'s deliveries',
    'the quantile markers hold the report\'s send_latency_ms',
    'each marker is drawn where its data says',
    'each curve is drawn where its data says, rising',
    'each curve goes through its quantiles',
    'the caption gives the date, cores, kernel and command line',
]


def report(spec):
    label, _, path = spec.rpartition('=')
    lines = [l for l in open(path, encoding='utf-8') if l.startswith('{')]
    return label, json.loads(lines[-1])


def floats(text):
    return [float(v) for v in text.split()]


def scale(plot):
    xmax = float(plot.get('data-x-max-ms'))
    left, right = float(plot.get('data-left')), float(plot.get('data-right'))
    top, bottom = float(plot.get('data-top')), float(plot.get('data-bottom'))
    return (lambda ms: left + ms / xmax * (right - left),
            lambda q: bottom - q * (bottom - top))


def near(a, b):
    return abs(a - b) <= TOL


def check_labels(series, reports):
    for g, (label, rep) in zip(series, reports):
        want = label or ('floor' if rep['floor'] else 'server')
        if g.get('data-label') != want:
            return f"curve labelled {g.get('data-label')!r}, expected {want!r}"
    return None


def check_counts(series, reports):
    for g, (_, rep) in zip(series, reports):
        want = sum(rep['send_hist']['counts'])
        if int(g.get('data-n')) != want or want != rep['deliveries_good']:
            return f"data-n {g.get('data-n')}, report {want} ({rep['deliveries_good']} good)"
        if (want > 0) != (g.find(NS + 'polyline') is not None):
            return f"{g.get('data-label')}: a curve exactly when there are deliveries"
    return None


def check_quantiles(series, reports):
    for g, (_, rep) in zip(series, reports):
        lat = rep['send_latency_ms']
        marks = {c.get('data-key'): c for c in g.iter(NS + 'circle')}
        want = {k: v for k, v in (lat or {}).items() if k not in ('sd', 'avg')}
        if set(marks) != set(want):
            return f"markers {sorted(marks)}, report {sorted(want)}"
        for k, v in want.items():
            if float(marks[k].get('data-ms')) != v:
                return f"{k}: marker {marks[k].get('data-ms')} ms, report {v} ms"
    return None


def misplaced(points, x, y):
    """The first (px, py, ms, q) not drawn where its data says, as text."""
    for px, py, ms, q in points:
        if not (near(px, x(ms)) and near(py, y(q))):
            return f"({px}, {py}) for ({ms} ms, {q}), expected ({x(ms):.2f}, {y(q):.2f})"
    return None


def check_markers(series, x, y):
    return misplaced([(float(c.get('cx')), float(c.get('cy')), float(c.get('data-ms')),
                       float(c.get('data-q'))) for g in series for c in g.iter(NS + 'circle')], x, y)


def check_curves(series, x, y):
    for g in series:
        for pl in g.iter(NS + 'polyline'):
            ms, qs = floats(pl.get('data-ms')), floats(pl.get('data-q'))
            pts = [tuple(map(float, p.split(','))) for p in pl.get('points').split()]
            if not (len(ms) == len(qs) == len(pts) >= 2):
                return f"{len(ms)} data-ms, {len(qs)} data-q, {len(pts)} points"
            bad = misplaced([(px, py, m, q) for (px, py), m, q in zip(pts, ms, qs)], x, y)
            if bad is not None:
                return bad
            if ms != sorted(ms) or qs != sorted(qs) or qs[0] != 0 or qs[-1] != 1:
                return 'the curve does not rise from 0 to 1 in order of latency'
    return None


def check_through(series):
    for g in series:
        for pl in g.iter(NS + 'polyline'):
            pts = set(zip(floats(pl.get('data-ms')), floats(pl.get('data-q'))))
            for c in g.iter(NS + 'circle'):
                if (float(c.get('data-ms')), float(c.get('data-q'))) not in pts:
                    return f"{c.get('data-key')} is not a point of the curve"
    return None


def check_caption(root):
    cap = root.find(f"{NS}g[@class='caption']")
    if cap is None:
        return 'no caption'
    text = ' '.join(''.join(t.itertext()) for t in cap.iter(NS + 'text'))
    cores = os.sysconf('SC_NPROCESSORS_ONLN')
    for want in (f'{cores} cores', os.uname().release, 'command: ', '--svg'):
        if want not in text:
            return f"{want!r} not in {text!r}"
    if not re.search(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC', text):
        return f"no date in {text!r}"
    return None


def main():
    results = []
    try:
        root = ET.parse(sys.argv[1]).getroot()
        reports = [report(s) for s in sys.argv[2:]]
        ok = root.tag == NS + 'svg'
        results.append(None if ok else f"root is {root.tag}")
        plot = root.find(f"{NS}g[@class='plot']")
        series = plot.findall(f"{NS}g[@class='series']")
        x, y = scale(plot)
        results.append(None if len(series) == len(reports) else
                       f"{len(series)} curves, {len(reports)} reports")
        results.append(check_labels(series, reports))
        results.append(check_counts(series, reports))
        results.append(check_quantiles(series, reports))
        results.append(check_markers(series, x, y))
        results.append(check_curves(series, x, y))
        results.append(check_through(series))
        results.append(check_caption(root))
    except Exception as e:  # a broken file fails every check left, saying why
        results += [f"{type(e).__name__}: {e}"] * (len(CHECKS) - len(results))
    for what, why in zip(CHECKS, results):
        print(f"PASS {what}" if why is None else f"FAIL {what}: {why}")
    return 0 if all(r is None for r in results) else 1


sys.exit(main())
