# SPDX-License-Identifier: Apache-2.0
# tests/bench/delta_table.py RES.tsv... -- the tables of tests/bench/delta.sh.
# Totals per set: public (delta-corpus.sh), tuning and heldout (wide-corpus.sh);
# pairs of the set "extra" are shown but left out of the totals.
import csv, os, sys

rows = []
for f in sys.argv[1:]:
    rows += list(csv.DictReader(open(f), delimiter="\t"))
# zstd --patch-from --ultra -22 sizes measured on these pinned pairs
# (../shared/bench/README.md), used when a run skipped -22 (BENCH_ULTRA=0)
PF22_README = {"parcel-watcher": 97142, "rollup": 332110, "oxc-parser": 913745, "esbuild": 389030,
               "turbo": 3479779, "caniuse-lite": 17964, "disposable-email": 35616, "mdn-bcd": 27179,
               "esbuild-noop": 967, "swc-packed": 10045556}
for r in rows:
    r.setdefault("hdz", "-")
    for k in ("hdz_ct", "hdz_cm", "hdz_at", "hdz_am", "hdb"):
        r.setdefault(k, "-")
    if r["pf22"] in ("", "-") and r["pair"] in PF22_README:
        r["pf22"] = str(PF22_README[r["pair"]])
        r["pf22_src"] = "R"
def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None
ANCHORS = (("bsdiff", "bsd"), ("xdelta3", "xd3"), ("pf19", "pf19"), ("pf22", "pf22"), ("hdz-zstd", "hdz"),
           ("hdz-bz2", "hdb"))
def best_anchor(r):
    c = {k: num(r[col]) for k, col in ANCHORS if num(r[col]) is not None}
    k = min(c, key=c.get)
    return c[k], k
have_hdz = any(num(r["hdz"]) for r in rows)
order = []
for r in rows:
    if r["set"] not in order:
        order.append(r["set"])
groups = [(s, [r for r in rows if r["set"] == s]) for s in order]
mark = lambda r: r["pair"] + ("*" if r["set"] == "extra" else "")
fmt = lambda v: "%d" % v if v is not None else "-"

print("\nSizes (bytes). best = smallest anchor on the pair; zupd/best <= 1.00 is the per-pair goal.")
print("%-17s %-7s %10s %10s %-8s %10s %10s %10s %10s %10s %10s | %10s %-8s %9s" % (
    "pair", "set", "new", "zupd", "method", "bsdiff", "xdelta3", "pf-19", "pf-22", "hdz-zstd", "hdz-bz2",
    "best", "anchor", "zupd/best"))
for s, group in groups:
    T = dict(new=0, z=0, bsd=0, xd3=0, pf19=0, pf22=0, hdz=0, hdb=0, best=0)
    worse = 0
    for r in group:
        best, anc = best_anchor(r)
        z = num(r["zupd"])
        print("%-17s %-7s %10d %10d %-8s %10d %10d %10d %10s %10s %10s | %10d %-8s %9.3f%s" % (
            mark(r), s, num(r["new"]), z, r["zupd_method"], num(r["bsd"]), num(r["xd3"]), num(r["pf19"]),
            fmt(num(r["pf22"])) + r.get("pf22_src", ""), fmt(num(r["hdz"])), fmt(num(r["hdb"])),
            best, anc, z / best, "" if z <= best else "  LARGER"))
        T["new"] += num(r["new"]); T["z"] += z; T["best"] += best
        for k in ("bsd", "xd3", "pf19", "pf22", "hdz", "hdb"):
            T[k] += num(r[k]) or 0
        worse += z > best
    if s != "extra" and group:
        print("%-17s %-7s %10d %10d %-8s %10d %10d %10d %10d %10d %10d | %10d %-8s %9.3f" % (
            "TOTAL " + s, "", T["new"], T["z"], "", T["bsd"], T["xd3"], T["pf19"], T["pf22"], T["hdz"],
            T["hdb"], T["best"], "", T["z"] / T["best"]))
        print("  %s: %d pairs, zupd larger than the best anchor on %d; total %.3f x sum of best anchors "
              "(goal <= 0.85), %.3f x hdz-zstd" % (s, len(group), worse, T["z"] / T["best"],
                                                     T["z"] / T["hdz"] if T["hdz"] else 0))
print("(* extra pairs, not in the totals; R: pf-22 size from ../shared/bench/README.md, not re-measured)")

def tm(group, key):
    return sum(num(r[key]) or 0 for r in group)
def ratio(a, b):
    return a / b if a and b else 0
print("\nCreation: wall s / peak RSS MiB; bsd/zupd = bsdiff time / zupd time (goal >= 4), "
      "hdz/zupd (goal >= 1 in total), mem = zupd/bsdiff (goal <= 1 over 10 MB)")
print("%-17s %16s %16s %16s %16s %16s | %8s %8s %8s" % (
    "pair", "zupd", "bsdiff", "xdelta3", "zstd-pf19", "hdiffz", "bsd/zupd", "hdz/zupd", "mem"))
for s, group in groups:
    for r in group:
        print("%-17s %7.2f/%-8.1f %7.2f/%-8.1f %7.2f/%-8.1f %7.2f/%-8.1f %7s/%-8s | %7.2fx %7.2fx %7.2fx" % (
            mark(r), num(r["zupd_ct"]), num(r["zupd_cm"]) / 1024, num(r["bsd_ct"]), num(r["bsd_cm"]) / 1024,
            num(r["xd3_ct"]), num(r["xd3_cm"]) / 1024, num(r["pf19_ct"]), num(r["pf19_cm"]) / 1024,
            r["hdz_ct"], "%.1f" % (num(r["hdz_cm"]) / 1024) if num(r["hdz_cm"]) else "-",
            num(r["bsd_ct"]) / max(num(r["zupd_ct"]), 0.005),
            ratio(num(r["hdz_ct"]), max(num(r["zupd_ct"]), 0.005)), num(r["zupd_cm"]) / num(r["bsd_cm"])))
    if s != "extra" and group:
        print("%-17s %7.2f%9s %7.2f%9s %7.2f%9s %7.2f%9s %7.2f%9s | %7.2fx %7.2fx %7.2fx(max)" % (
            "TOTAL " + s, tm(group, "zupd_ct"), "", tm(group, "bsd_ct"), "", tm(group, "xd3_ct"), "",
            tm(group, "pf19_ct"), "", tm(group, "hdz_ct"), "", tm(group, "bsd_ct") / tm(group, "zupd_ct"),
            ratio(tm(group, "hdz_ct"), tm(group, "zupd_ct")),
            max(num(r["zupd_cm"]) / num(r["bsd_cm"]) for r in group)))
if any(num(r["zmax_ct"]) for r in rows):
    done = [r for r in rows if num(r["zmax_ct"]) and r["set"] != "extra"]
    print("zupd --level 22 (overnight), %d pairs: total %.2f s, peak %.1f MiB" % (
        len(done), tm(done, "zmax_ct"), max(num(r["zmax_cm"]) for r in done) / 1024))

print("\nApply: wall s (median) / peak RSS MiB; bsp/zupd = bspatch time / zupd time (goal >= 5), "
      "hpz/zupd (goal >= 1 in total); mem goal: zupd <= old + 64 MiB")
print("%-17s %16s %16s %16s %16s %16s | %8s %8s %9s" % (
    "pair", "zupd", "bspatch", "xdelta3", "zstd-pf19", "hpatchz", "bsp/zupd", "hpz/zupd", "old+64MiB"))
for s, group in groups:
    for r in group:
        lim = num(r["old"]) / 1048576 + 64
        zm = num(r["zupd_am"]) / 1024
        print("%-17s %7.3f/%-8.1f %7.3f/%-8.1f %7.3f/%-8.1f %7.3f/%-8.1f %7s/%-8s | %7.2fx %7.2fx %7.1f %s" % (
            mark(r), num(r["zupd_at"]), zm, num(r["bsd_at"]), num(r["bsd_am"]) / 1024,
            num(r["xd3_at"]), num(r["xd3_am"]) / 1024, num(r["pf19_at"]), num(r["pf19_am"]) / 1024,
            r["hdz_at"], "%.1f" % (num(r["hdz_am"]) / 1024) if num(r["hdz_am"]) else "-",
            num(r["bsd_at"]) / max(num(r["zupd_at"]), 0.005),
            ratio(num(r["hdz_at"]), max(num(r["zupd_at"]), 0.005)), lim, "ok" if zm <= lim else "OVER"))
    if s != "extra" and group:
        print("%-17s %7.3f%9s %7.3f%9s %7.3f%9s %7.3f%9s %7.3f%9s | %7.2fx %7.2fx" % (
            "TOTAL " + s, tm(group, "zupd_at"), "", tm(group, "bsd_at"), "", tm(group, "xd3_at"), "",
            tm(group, "pf19_at"), "", tm(group, "hdz_at"), "",
            tm(group, "bsd_at") / max(tm(group, "zupd_at"), 0.005),
            ratio(tm(group, "hdz_at"), max(tm(group, "zupd_at"), 0.005))))
print("(wall clock to the millisecond, each run including the start of the program; applies: the median")
print(" of %s runs, BENCH_APPLY_REPS)%s" % (os.environ.get("BENCH_APPLY_REPS", "5"), "" if have_hdz else "; HDiffPatch not measured (HDIFFPATCH_DIR)"))
