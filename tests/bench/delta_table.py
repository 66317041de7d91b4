# SPDX-License-Identifier: Apache-2.0
# tests/bench/delta_table.py RES.tsv -- the tables of tests/bench/delta.sh.
import csv, sys

rows = []
for f in sys.argv[1:]:
    rows += list(csv.DictReader(open(f), delimiter="\t"))
# zstd --patch-from --ultra -22 sizes measured on these pinned pairs
# (../shared/bench/README.md), used when a run skipped -22 (BENCH_ULTRA=0)
PF22_README = {"parcel-watcher": 97142, "rollup": 332110, "oxc-parser": 913745, "esbuild": 389030,
               "turbo": 3479779, "caniuse-lite": 17964, "disposable-email": 35616, "mdn-bcd": 27179,
               "esbuild-noop": 967, "swc-packed": 10045556}
for r in rows:
    if r["pf22"] in ("", "-") and r["pair"] in PF22_README:
        r["pf22"] = str(PF22_README[r["pair"]])
        r["pf22_src"] = "R"
def num(x):
    try:
        return float(x)
    except ValueError:
        return None
def best_anchor(r):
    c = {"bsdiff": num(r["bsd"]), "xdelta3": num(r["xd3"]), "pf19": num(r["pf19"]), "pf22": num(r["pf22"])}
    c = {k: v for k, v in c.items() if v is not None}
    k = min(c, key=c.get)
    return c[k], k
pub = [r for r in rows if r["set"] != "extra"]
ext = [r for r in rows if r["set"] == "extra"]

print("\nSizes (bytes). best = smallest anchor on the pair; zupd/best <= 1.00 is the per-pair goal.")
h = "%-17s %11s %11s %11s %-8s %11s %11s %11s %11s | %11s %-7s %9s %8s" % (
    "pair", "new", "zstd-19", "zupd", "method", "bsdiff", "xdelta3", "pf-19", "pf-22", "best", "anchor", "zupd/best", "zupd/new")
if any(num(r["zmax"]) for r in rows):
    h += " %11s" % "zupd-max"
print(h)
def size_line(name, r, new, full, z, meth, b, x, p19, p22, best, anc, zmax):
    s = "%-17s %11d %11d %11d %-8s %11d %11d %11d %11s | %11d %-7s %9.3f %7.2f%%" % (
        name, new, full, z, meth, b, x, p19, ("%d" % p22 if p22 is not None else "-") + (r.get("pf22_src", "") if r else ""),
        best, anc, z / best if best else 0, 100 * z / new if new else 0)
    if zmax:
        s += " %11d" % zmax
    print(s)
for group, label in ((pub, "TOTAL public"), (ext, None)):
    T = dict(new=0, full=0, z=0, b=0, x=0, p19=0, p22=0, best=0, zmax=0)
    for r in group:
        best, anc = best_anchor(r)
        v = dict(new=num(r["new"]), full=num(r["full"]), z=num(r["zupd"]), b=num(r["bsd"]), x=num(r["xd3"]),
                 p19=num(r["pf19"]), p22=num(r["pf22"]), best=best, zmax=num(r["zmax"]) or 0)
        size_line(r["pair"] + ("*" if r["set"] == "extra" else ""), r, v["new"], v["full"], v["z"], r["zupd_method"],
                  v["b"], v["x"], v["p19"], v["p22"], best, anc, v["zmax"])
        for k in T:
            T[k] += v[k] or 0
    if label and group:
        size_line(label, None, T["new"], T["full"], T["z"], "", T["b"], T["x"], T["p19"], T["p22"] or None,
                  T["best"], "", T["zmax"])
        print("goal: total <= 0.9 x sum of best anchors = %d: zupd %d (%.3f x best)" % (
            int(0.9 * T["best"]), T["z"], T["z"] / T["best"]))
print("(* extra pairs, not in the totals; R: pf-22 size from ../shared/bench/README.md, not re-measured)")

def tm(group, key):
    return sum(num(r[key]) or 0 for r in group)
print("\nCreation: wall s / peak RSS MiB; ratio = bsdiff time / zupd time (goal >= 4), memory zupd/bsdiff (goal <= 1)")
print("%-17s %16s %16s %16s %16s | %8s %8s" % ("pair", "zupd", "bsdiff", "xdelta3", "zstd-pf19", "speedup", "mem"))
for r in rows:
    print("%-17s %7.2f/%-8.1f %7.2f/%-8.1f %7.2f/%-8.1f %7.2f/%-8.1f | %7.2fx %7.2fx" % (
        r["pair"] + ("*" if r["set"] == "extra" else ""),
        num(r["zupd_ct"]), num(r["zupd_cm"]) / 1024, num(r["bsd_ct"]), num(r["bsd_cm"]) / 1024,
        num(r["xd3_ct"]), num(r["xd3_cm"]) / 1024, num(r["pf19_ct"]), num(r["pf19_cm"]) / 1024,
        num(r["bsd_ct"]) / max(num(r["zupd_ct"]), 0.005), num(r["zupd_cm"]) / num(r["bsd_cm"])))
print("%-17s %7.2f%9s %7.2f%9s %7.2f%9s %7.2f%9s | %7.2fx %7.2fx(max)" % (
    "TOTAL public", tm(pub, "zupd_ct"), "", tm(pub, "bsd_ct"), "", tm(pub, "xd3_ct"), "", tm(pub, "pf19_ct"), "",
    tm(pub, "bsd_ct") / tm(pub, "zupd_ct"), max(num(r["zupd_cm"]) / num(r["bsd_cm"]) for r in pub)))
if any(num(r["zmax_ct"]) for r in rows):
    done = [r for r in pub if num(r["zmax_ct"])]
    print("zupd --level 22 (overnight), %d public pairs: total %.2f s, peak %.1f MiB" % (
        len(done), tm(done, "zmax_ct"), max(num(r["zmax_cm"]) for r in done) / 1024))

print("\nApply: wall s (median) / peak RSS MiB; ratio = bspatch time / zupd time (goal >= 5); mem goal: zupd <= old + 64 MiB")
print("%-17s %16s %16s %16s %16s | %8s %12s" % ("pair", "zupd", "bspatch", "xdelta3", "zstd-pf19", "speedup", "old+64MiB"))
for r in rows:
    lim = num(r["old"]) / 1048576 + 64
    zm = num(r["zupd_am"]) / 1024
    print("%-17s %7.3f/%-8.1f %7.3f/%-8.1f %7.3f/%-8.1f %7.3f/%-8.1f | %7.2fx %7.1f %s" % (
        r["pair"] + ("*" if r["set"] == "extra" else ""),
        num(r["zupd_at"]), zm, num(r["bsd_at"]), num(r["bsd_am"]) / 1024,
        num(r["xd3_at"]), num(r["xd3_am"]) / 1024, num(r["pf19_at"]), num(r["pf19_am"]) / 1024,
        num(r["bsd_at"]) / max(num(r["zupd_at"]), 0.005), lim, "ok" if zm <= lim else "OVER"))
print("%-17s %7.3f%9s %7.3f%9s %7.3f%9s %7.3f%9s | %7.2fx" % (
    "TOTAL public", tm(pub, "zupd_at"), "", tm(pub, "bsd_at"), "", tm(pub, "xd3_at"), "", tm(pub, "pf19_at"), "",
    tm(pub, "bsd_at") / max(tm(pub, "zupd_at"), 0.005)))
print("(wall clock to the millisecond, each run including the start of the program; applies: the median")
print(" of 5 runs, BENCH_APPLY_REPS)")
