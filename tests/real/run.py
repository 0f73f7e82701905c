#!/usr/bin/env python3
"""Real programs under rcleak: each runs natively and then with
build/librcleak.so preloaded (RCLEAK_OPTIONS=exitcode=0:json_path=...-%p.json)
in fresh, identical working directories. A case passes when stdout, the exit
status and any files it names are identical, at least one JSON report was
written, and no report has a memory error (none of these programs has one;
leaks are fine).

Each case also checks rcleak's definitely lost bytes (summed over every
process) against valgrind's for the same command, as recorded in
valgrind.json: none where valgrind found none, some where it found some.
--valgrind runs valgrind too, rewrites valgrind.json and prints the table of
both tools' numbers that the README shows.

usage: tests/real/run.py [-v] [--keep] [--valgrind] [PATTERN...]

Prints "PASS name" / "FAIL name: reason" per case, a case whose program is
not installed as "PASS name (skipped: ...)", then "N passed, N failed";
exits 1 when any failed. python3 standard library only.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from testlib import communicate_or_kill  # noqa: E402
LIB = ROOT / "build" / "librcleak.so"
TIMEOUT = 60
VG_TIMEOUT = 900
VG_FILE = Path(__file__).resolve().parent / "valgrind.json"
KINDS = ["definitely_lost", "indirectly_lost", "possibly_lost",
         "still_reachable"]

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else \
    shutil.which("python3")
AWK = shutil.which("gawk") or shutil.which("awk")

# Deterministic commits: same hashes natively and under rcleak.
GIT_ENV = {
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def gen_lines(n, seed=7):
    out, x = [], seed
    for i in range(n):
        x = (x * 1103515245 + 12345) % (1 << 31)
        out.append(f"{x % 100000:05d} word{x % 977} {i}")
    return "\n".join(out) + "\n"


def gen_data(n):
    """Compressible but not trivial bytes."""
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta"]
    out, x = bytearray(), 1
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out += words[x % 6] + str(x >> 50).encode() + b" "
    return bytes(out[:n])


SMALL_C = """
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct item { char name[32]; int weight; };
static int cmp(const void *a, const void *b)
{
	return ((const struct item *)a)->weight - ((const struct item *)b)->weight;
}
int main(int argc, char **argv)
{
	struct item items[64];
	for (int i = 0; i < 64; i++) {
		snprintf(items[i].name, sizeof items[i].name, "item%d", i);
		items[i].weight = (i * 37) % 64;
	}
	qsort(items, 64, sizeof items[0], cmp);
	for (int i = 0; i < argc && i < 64; i++)
		puts(items[i].name);
	return strlen(argv[0]) > 1000;
}
"""

SMALL_CPP = """
#include <map>
#include <string>
#include <vector>
#include <algorithm>
template <typename T> T total(const std::vector<T> &v)
{
	T s{};
	for (const auto &x : v)
		s += x;
	return s;
}
int count_words(const std::string &text)
{
	std::map<std::string, int> m;
	std::string w;
	for (char c : text) {
		if (c == ' ') { m[w]++; w.clear(); } else w += c;
	}
	std::vector<int> counts;
	for (auto &kv : m)
		counts.push_back(kv.second);
	std::sort(counts.begin(), counts.end());
	return total(counts);
}
"""

MAKEFILE = """\
NAMES := a b c d
OUT := $(addsuffix .out,$(NAMES))
all: summary.txt
%.out: %.in
\t@tr a-z A-Z < $< > $@
%.in:
\t@echo "input $* $(shell echo hello)" > $@
summary.txt: $(OUT)
\t@cat $^ | sort > $@
\t@echo "built $(words $^) files"
\t@cat $@
.PHONY: all
"""

SQL = """\
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
INSERT INTO t(name, grp, v) SELECT 'n' || x, x % 17, x * 0.5 FROM c;
CREATE INDEX t_grp ON t(grp);
SELECT grp, count(*), sum(v), max(name) FROM t GROUP BY grp ORDER BY grp;
SELECT count(*) FROM t WHERE name LIKE 'n1%';
UPDATE t SET v = v * 2 WHERE grp = 3;
DELETE FROM t WHERE id % 5 = 0;
SELECT sum(v), count(*) FROM t;
SELECT group_concat(name, ',') FROM (SELECT name FROM t ORDER BY v DESC LIMIT 10);
"""

TCL = """\
set d [dict create]
for {set i 0} {$i < 20000} {incr i} {
    dict set d key[expr {$i % 997}] $i
}
puts [dict size $d]
set l {}
for {set i 0} {$i < 5000} {incr i} { lappend l [expr {($i * 7919) % 5003}] }
puts [lrange [lsort -integer $l] 0 9]
puts [string toupper [string repeat abc 5]]
proc fib {n} { if {$n < 2} { return $n }; expr {[fib [expr {$n-1}]] + [fib [expr {$n-2}]]} }
puts [fib 18]
puts [regsub -all {[0-9]+} "a1b22c333" "#"]
"""

PYCODE = r"""
import collections, hashlib, json, re, threading, concurrent.futures
d = {str(i): [i] * (i % 50) for i in range(3000)}
s = json.dumps(d, sort_keys=True)
print(len(s), hashlib.sha256(s.encode()).hexdigest())
c = collections.Counter(re.findall(r"\d+", s))
print(c.most_common(3))
def work(n):
    return sum(len(str(x)) for x in range(n))
with concurrent.futures.ThreadPoolExecutor(4) as ex:
    print(list(ex.map(work, [10000, 20000, 30000, 40000])))
class Node:
    def __init__(self, nxt): self.nxt = nxt
n = None
for i in range(100000): n = Node(n)
print(sorted({i * 7 % 1000 for i in range(5000)})[:5])
"""

PERL = r"""
my %h;
$h{"k$_"} = $_ * 2 for 1 .. 100000;
my $s = 0;
$s += $h{$_} for keys %h;
print scalar(keys %h), " $s\n";
my @w = sort { $a <=> $b } map { ($_ * 7919) % 10007 } 1 .. 20000;
print "@w[0..9]\n";
my $t = join ",", map { sprintf "%03x", $_ } 1 .. 50;
$t =~ s/(\d)/<$1>/g;
print length($t), "\n";
"""

# C extension modules, and children by fork, vfork (subprocess) and
# posix_spawn.
PYEXT = r"""
import array, bz2, csv, ctypes, decimal, io, json, lzma, math, os, pickle
import sqlite3, struct, subprocess, sys, unicodedata, zlib, hashlib
import xml.etree.ElementTree as ET
rows = [{"id": i, "name": f"n{i}", "v": i * 0.25} for i in range(2000)]
blob = json.dumps(rows, sort_keys=True).encode()
print(hashlib.sha256(blob).hexdigest(), hashlib.md5(blob).hexdigest())
print(len(zlib.compress(blob, 6)), len(bz2.compress(blob)),
      len(lzma.compress(blob)))
print(pickle.loads(pickle.dumps(rows))[1999])
db = sqlite3.connect(":memory:")
db.execute("create table t(id integer primary key, name text, v real)")
db.executemany("insert into t values (:id, :name, :v)", rows)
print(db.execute("select count(*), sum(v), max(name) from t").fetchone())
db.close()
decimal.getcontext().prec = 50
print(decimal.Decimal(1) / decimal.Decimal(7))
print(sum(array.array("d", (math.sqrt(i) for i in range(10000)))))
out = io.StringIO()
csv.writer(out).writerows([r["id"], r["name"]] for r in rows[:3])
print(out.getvalue().split())
root = ET.fromstring("<a>" + "".join(f"<b k='{i}'/>" for i in range(500)) + "</a>")
print(len(root), root[42].get("k"), unicodedata.name("\u00e9"))
print(struct.unpack("<iqd", struct.pack("<iqd", 7, 1 << 40, 2.5)))
print(ctypes.c_int(41).value + 1, ctypes.sizeof(ctypes.c_long))
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    print("forked child", sum(range(1000)))
    os._exit(0)
os.waitpid(pid, 0)
print(subprocess.run(["sh", "-c", "echo spawned by subprocess"],
                     capture_output=True, text=True).stdout.strip())
sys.stdout.flush()
pid = os.posix_spawnp("sh", ["sh", "-c", "echo spawned by posix_spawn"],
                      os.environ)
print(os.waitpid(pid, 0)[1])
"""

PERL_XS = r"""
use strict; use warnings;
use List::Util qw(sum max min first reduce);
use Storable qw(freeze thaw dclone);
use POSIX qw(floor ceil strftime);
use Digest::MD5 qw(md5_hex);
use Data::Dumper; $Data::Dumper::Sortkeys = 1; $Data::Dumper::Indent = 1;
use Encode qw(encode decode);
my %h = map { ("k$_" => [$_, $_ * 2, { sq => $_ * $_ }]) } 1 .. 20000;
my $copy = thaw(freeze(\%h));
my $deep = dclone($copy);
print scalar(keys %$deep), " ", sum(map { $_->[1] } values %$deep), "\n";
print max(1 .. 5000), " ", min(map { $_ * 3 } 7 .. 90), " ",
      (first { $_ > 4000 } 1 .. 9999), " ", (reduce { $a * $b } 1 .. 10), "\n";
print floor(-2.5), " ", ceil(2.1), " ", strftime("%Y-%m-%d", gmtime(86400 * 365)), "\n";
print md5_hex(join ",", sort keys %h), "\n";
my $d = Dumper({ a => [1, 2, { b => "c" }], z => "\x{e9}t\x{e9}" });
print length($d), "\n";
my $bytes = encode("UTF-8", "caf\x{e9} \x{263a}" x 1000);
print length($bytes), " ", length(decode("UTF-8", $bytes)), "\n";
"""

NODE = r"""
const zlib = require('zlib'), crypto = require('crypto');
const m = new Map();
for (let i = 0; i < 100000; i++) m.set('k' + i, {i, s: String(i * 7)});
let total = 0;
for (const [k, v] of m) total += v.i;
const arr = Array.from({length: 50000}, (_, i) => (i * 7919) % 50021).sort((a, b) => a - b);
const text = JSON.stringify([...m.values()].slice(0, 5000));
const gz = zlib.gzipSync(Buffer.from(text));
console.log(m.size, total, arr.slice(0, 5).join(','));
console.log(text.length, zlib.gunzipSync(gz).length);
console.log(crypto.createHash('sha256').update(text).digest('hex'));
console.log('abc'.repeat(1000).replace(/b/g, 'x').length);
"""

JQ_FILTER = (r'[.[] | select(.v % 3 == 0) | {id, tag: (.name | ascii_upcase)}]'
             r' | group_by(.id % 5) | map({g: (.[0].id % 5), n: length})')

MAKEFILE_J2 = """\
N := $(shell seq 1 24)
all: total.txt
part%.txt:
\t@seq 1 $* | awk '{ s += $$1 } END { print "$*", s }' > $@
total.txt: $(addprefix part,$(addsuffix .txt,$(N)))
\t@cat $^ | sort -n > $@
\t@wc -l < $@
.PHONY: all
"""


def write(d, name, text, mode="w"):
    p = Path(d) / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def writes(name, text):
    """The preparation that writes one file."""
    return lambda d: write(d, name, text)


def prep_sort(d):
    write(d, "lines.txt", gen_lines(200000))


def prep_text(d):
    write(d, "text.txt", gen_lines(50000, seed=3))


def prep_data(d):
    write(d, "data.bin", gen_data(6 << 20))



def prep_cc(d):
    write(d, "small.c", SMALL_C)
    write(d, "small.cpp", SMALL_CPP)









def prep_jq(d):
    items = [{"id": i, "name": f"item{i % 97}", "v": (i * 31) % 1000}
             for i in range(30000)]
    write(d, "in.json", json.dumps(items))
    write(d, "filter.jq", JQ_FILTER)



# name, needed programs, command (run with bash -c in the work dir),
# preparation, files whose contents must match afterwards
CASES = [
    ("python3", [PY], f'{PY} -c "$(cat prog.py)"',
     writes("prog.py", PYCODE), []),
    ("python3_malloc_extensions_children", [PY],
     f'PYTHONMALLOC=malloc {PY} prog.py', writes("prog.py", PYEXT), []),
    ("perl_xs_modules", ["perl"], "perl prog.pl",
     writes("prog.pl", PERL_XS), []),
    ("node", ["node"], "node prog.js", writes("prog.js", NODE), []),
    ("jq", ["jq"], "jq -c -S -f filter.jq in.json", prep_jq, []),
    ("make_j2", ["make"], "make -s -j2", writes("Makefile", MAKEFILE_J2),
     ["total.txt"]),
    ("pigz_p2", ["pigz"],
     "pigz -p 2 -6 -n -c data.bin > data.gz && pigz -dc data.gz | sha256sum",
     prep_data, ["data.gz"]),
    ("perl_hash", ["perl"], 'perl -e "$(cat prog.pl)"',
     writes("prog.pl", PERL), []),
    ("git_init_add_commit_log", ["git"],
     "set -e; git init -q repo; cd repo; printf 'one\\ntwo\\n' > a.txt; "
     "mkdir sub; seq 1 500 > sub/b.txt; git add .; "
     "git -c user.name=Tester -c user.email=t@example.com commit -q -m first; "
     "echo three >> a.txt; git -c user.name=Tester "
     "-c user.email=t@example.com commit -q -am second; "
     "git log --format='%H %an %s'; git diff HEAD~1 --stat; "
     "git cat-file -p HEAD:a.txt", None, []),
    ("gcc_c", ["gcc"], "gcc -O2 -c small.c -o small.o && echo compiled",
     prep_cc, ["small.o"]),
    ("gxx_c", ["g++"], "g++ -O1 -c small.cpp -o smallpp.o && echo compiled",
     prep_cc, ["smallpp.o"]),
    ("sort", ["sort"], "sort -S 8M --parallel=2 -k2,2 -k1,1n lines.txt",
     prep_sort, []),
    ("bash_pipeline", ["bash"],
     "bash -c 'seq 1 20000 | tr 0-9 a-j | sort | uniq -c | sort -rn | "
     "head -5; x=; for i in $(seq 1 300); do x=$x$i; done; echo ${#x}; "
     "declare -A m; for i in {1..2000}; do m[k$i]=$i; done; echo ${#m[@]}'",
     None, []),
    ("make", ["make"], "make -s -f Makefile && make -s -f Makefile",
     writes("Makefile", MAKEFILE), ["summary.txt"]),
    ("sqlite3", ["sqlite3"], "sqlite3 :memory: < script.sql",
     writes("script.sql", SQL), []),
    ("tclsh", ["tclsh"], "tclsh script.tcl", writes("script.tcl", TCL), []),
    ("awk", [AWK],
     f"{AWK} '{{ n[$2]++; s += $1 }} END {{ for (k in n) c++; "
     f"print c, s, NR }}' text.txt", prep_text, []),
    ("sed", ["sed"],
     "sed -E 's/word([0-9]+)/W<\\1>/; /^0/d; 5000q' text.txt | tail -3",
     prep_text, []),
    ("grep", ["grep"],
     "grep -c -E 'word(1|2)[0-9]{2}' text.txt; grep -o -P 'word9\\d+' "
     "text.txt | sort -u | head -3", prep_text, []),
    ("grep_no_match_status_1", ["grep"], "grep -q nothing-like-this text.txt",
     prep_text, []),
    ("xz_T2", ["xz"],
     "xz -T2 -6 -c data.bin > data.xz && xz -dc data.xz | sha256sum",
     prep_data, ["data.xz"]),
    ("zstd_T2", ["zstd"],
     "zstd -q -T2 -c data.bin > data.zst && zstd -q -dc data.zst | "
     "sha256sum", prep_data, ["data.zst"]),
    ("tar_gzip", ["tar", "gzip"],
     "touch -d @0 text.txt && tar -cf - text.txt | gzip -n -6 > t.tgz && tar -tzvf t.tgz "
     "--numeric-owner | awk '{print $3, $6}'", prep_text, ["t.tgz"]),
]


class Fail(Exception):
    pass


def run_one(cmd, cwd, preload, jsondir):
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "RCLEAK_OPTIONS"):
        env.pop(k, None)
    env.update(GIT_ENV)
    env.update({"LC_ALL": "C", "HOME": str(cwd), "TZ": "UTC"})
    argv, timeout = ["bash", "-c", cmd], TIMEOUT
    if preload == "valgrind":
        # A fork() child that does not exec and ends with _exit() gets no
        # rcleak report (boot.c): valgrind is told to match.
        argv = ["valgrind", "--trace-children=yes", "--leak-check=full",
                "--child-silent-after-fork=yes",
                "--show-leak-kinds=all", f"--log-file={jsondir}/vg-%p.log",
                ] + argv
        timeout = VG_TIMEOUT
    elif preload:
        env["LD_PRELOAD"] = str(LIB)
        env["RCLEAK_OPTIONS"] = f"exitcode=0:json_path={jsondir}/r-%p.json"
    done = communicate_or_kill(argv, timeout, cwd=cwd, env=env,
                               stdin=subprocess.DEVNULL)
    if done is None:
        raise Fail(f"timed out after {timeout}s "
                   f"({'preloaded' if preload else 'natively'})")
    return done[1:]


def rcleak_totals(reports):
    t = {k: [0, 0] for k in KINDS}
    for r in reports:
        for k in KINDS:
            t[k][0] += r["summary"][k]["bytes"]
            t[k][1] += r["summary"][k]["blocks"]
    t["processes"] = len(reports)
    return t


VG_LINE = {"definitely lost": "definitely_lost",
           "indirectly lost": "indirectly_lost",
           "possibly lost": "possibly_lost",
           "still reachable": "still_reachable"}


def valgrind_totals(logdir):
    """Sums the leak summaries of every process valgrind logged."""
    t = {k: [0, 0] for k in KINDS}
    t["processes"] = t["errors"] = 0
    for f in sorted(logdir.glob("vg-*.log")):
        text = f.read_text(errors="replace")
        t["processes"] += 1
        for line in text.splitlines():
            for label, key in VG_LINE.items():
                m = re.search(label + r": ([\d,]+) bytes in ([\d,]+) blocks",
                              line)
                if m:
                    t[key][0] += int(m.group(1).replace(",", ""))
                    t[key][1] += int(m.group(2).replace(",", ""))
            m = re.search(r"ERROR SUMMARY: (\d+) errors", line)
            if m:
                t["errors"] += int(m.group(1))
    return t


def check_against_valgrind(name, mine, recorded):
    """valgrind's definite leaks, if recorded: rcleak must agree on whether
    there are any."""
    vg = recorded.get(name)
    if vg is None:
        return
    vdef, rdef = vg["definitely_lost"][0], mine["definitely_lost"][0]
    if vdef == 0 and rdef != 0:
        raise Fail(f"{rdef} bytes definitely lost; valgrind finds none")
    if vdef != 0 and rdef == 0:
        raise Fail(f"no bytes definitely lost; valgrind finds {vdef}")


def digest(path):
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def short(b):
    s = b.decode("utf-8", "replace")
    return (s[:150] + "...") if len(s) > 150 else s


def check_case(name, cmd, prep, files, tmp, verbose, recorded, vg_out):
    dirs = {}
    for which in ("native", "rcleak") + (("valgrind",) if vg_out is not None
                                         else ()):
        # The same path both times, so tools that print it agree.
        d = tmp / "work"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir()
        if prep:
            prep(d)
        jsondir = tmp / ("vg" if which == "valgrind" else "json")
        jsondir.mkdir(exist_ok=True)
        t0 = time.time()
        rc, out, err = run_one(cmd, d, "valgrind" if which == "valgrind"
                               else which == "rcleak", jsondir)
        dirs[which] = (rc, out, err, {f: digest(d / f) for f in files},
                       time.time() - t0)
        if verbose:
            print(f"  {which}: rc={rc} {time.time() - t0:.1f}s",
                  file=sys.stderr)
    nrc, nout, nerr, nfiles, nt = dirs["native"]
    rrc, rout, rerr, rfiles, rt = dirs["rcleak"]
    want = 1 if name.endswith("status_1") else 0
    if nrc != want:
        raise Fail(f"natively exits {nrc}, want {want} (the case is broken): "
                   f"{short(nerr[-300:])}")
    if nrc != rrc:
        raise Fail(f"exit status {rrc} under rcleak, {nrc} natively; "
                   f"stderr: {short(rerr[-600:])}")
    if nout != rout:
        raise Fail(f"stdout differs: native {short(nout)!r} vs rcleak "
                   f"{short(rout)!r}")
    for f in files:
        if nfiles[f] is None:
            raise Fail(f"{f} not produced natively")
        if nfiles[f] != rfiles[f]:
            raise Fail(f"{f} differs under rcleak")
    reports = []
    for f in sorted((tmp / "json").glob("*.json")):
        try:
            reports.append(json.loads(f.read_text(errors="replace")))
        except ValueError as e:
            raise Fail(f"{f.name}: invalid JSON: {e}")
    if not reports:
        raise Fail(f"no JSON report written (library not active?); "
                   f"stderr: {short(rerr[-400:])}")
    for r in reports:
        if r.get("complete") is False:
            raise Fail(f"report of {r.get('exe')} pid {r.get('pid')} says "
                       f"tracking was incomplete")
        if r.get("errors"):
            e = r["errors"][0]
            fns = [fr.get("function") for fr in e.get("stack", [])[:4]]
            raise Fail(f"{len(r['errors'])} error(s) in {r.get('exe')} pid "
                       f"{r.get('pid')}: first {e.get('kind')} at {fns}")
    mine = rcleak_totals(reports)
    if vg_out is not None:
        vg_out[name] = {"rcleak": mine,
                        "valgrind": valgrind_totals(tmp / "vg")}
        recorded = {name: vg_out[name]["valgrind"]}
    check_against_valgrind(name, mine, recorded)
    return f"{len(reports)} reports, {nt:.1f}s native, {rt:.1f}s rcleak"


def fmt(t):
    return " / ".join(f"{t[k][0]:,}/{t[k][1]:,}" for k in KINDS)


def write_valgrind(results):
    """Keeps valgrind's numbers for the checks, prints the README table."""
    old = json.loads(VG_FILE.read_text()) if VG_FILE.exists() else {}
    old.update({k: v["valgrind"] for k, v in results.items()})
    VG_FILE.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
    print("| program (case) | processes rcleak / valgrind | rcleak: "
          "definite / indirect / possible / reachable (bytes/blocks) | "
          "valgrind: the same |")
    print("|---|---|---|---|")
    for name, v in results.items():
        r, g = v["rcleak"], v["valgrind"]
        print(f"| {name} | {r['processes']} / {g['processes']} | {fmt(r)} "
              f"| {fmt(g)} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("patterns", nargs="*")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--valgrind", action="store_true")
    args = ap.parse_args()
    recorded = json.loads(VG_FILE.read_text()) if VG_FILE.exists() else {}
    vg_out = {} if args.valgrind else None
    passed = failed = 0
    tmproot = Path(tempfile.mkdtemp(prefix="rcleak-real."))
    for name, progs, cmd, prep, files in CASES:
        if args.patterns and not any(p in name for p in args.patterns):
            continue
        missing = [p for p in progs if not p or not shutil.which(p)]
        if missing:
            print(f"PASS {name} (skipped: {missing[0] or 'program'} "
                  f"not installed)")
            passed += 1
            continue
        if not LIB.exists():
            print(f"FAIL {name}: {LIB} not built (run make)")
            failed += 1
            continue
        tmp = tmproot / name
        tmp.mkdir()
        try:
            info = check_case(name, cmd, prep, files, tmp, args.verbose,
                              recorded, vg_out)
            print(f"PASS {name}" + (f"  [{info}]" if args.verbose else ""),
                  flush=True)
            passed += 1
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
        except Fail as e:
            print(f"FAIL {name}: {e}", flush=True)
            failed += 1
    if failed or args.keep:
        print(f"(files kept in {tmproot})", file=sys.stderr)
    else:
        shutil.rmtree(tmproot, ignore_errors=True)
    if vg_out:
        write_valgrind(vg_out)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
