#!/usr/bin/env python3
"""rcleak's benchmark: synthetic workloads (tests/bench/workload.c) and real
programs (python3, perl, git, gcc, sqlite3 on generated inputs), natively
and under rcleak, LeakSanitizer, heaptrack and valgrind.

usage: tests/bench/bench.py [--reps N] [--only churn,tree,...]
                            [--tools native,rcleak,...] [--scale X]
                            [--quick] [--timeout S] [--keep]

Runs are interleaved (for each rep, for each workload, for each tool) so a
slow phase of the machine hits every tool alike; the table shows medians.
Each cell is the wall time and the peak RSS as ratios to native on the same
input. The slowest tools run on smaller inputs (SMALL_SCALE) next to a
native run at the same scale, and their cells say so. A run that fails
(exit status, timeout, a preload that did not load) shows as FAIL.

Prints the Markdown table and the lines below it, and writes them to
build/bench/results.md. Progress goes to stderr. Each run's outputs go to
files in a temporary directory; those of a failed run are kept in
build/bench/failed/. Needs what `make bench` builds: build/librcleak.so
(copied once, so a rebuild during the run changes nothing) and, in
build/bench/, workload, spawn (the launcher that measures peak RSS) and
lsan-init.so. python3 standard library only.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
LIB = BUILD / "librcleak.so"
WORKLOAD = BUILD / "bench" / "workload"
SPAWN = BUILD / "bench" / "spawn"
LSAN_INIT = BUILD / "bench" / "lsan-init.so"
RESULTS = BUILD / "bench" / "results.md"
FAILED = BUILD / "bench" / "failed"
LSAN = "/usr/lib/x86_64-linux-gnu/liblsan.so.0"
# The system interpreter: PATH may hold a pyenv shim, itself a script.
PY = "/usr/bin/python3"

ALL_TOOLS = ["native", "rcleak", "rcleak-q0", "rcleak-base", "lsan-fp",
             "lsan-dwarf", "heaptrack", "valgrind"]
# rcleak's columns: its options beyond those every run gets. Side by side
# they split its cost into the quarantine, the stacks, and the rest.
RCLEAK_VARIANTS = {"rcleak": "", "rcleak-q0": "quarantine_mb=0",
                   "rcleak-base": "quarantine_mb=0:depth=1"}
# Tools too slow for the full inputs (20-120x), the scale they run at
# instead, and the mark their cells get. Keeps 3 reps near 20 minutes.
SMALL_SCALE = {"lsan-dwarf": (0.25, "‡"), "valgrind": (0.1, "†")}
TIMEOUT = 300
HEAPTRACK_AS_LIMIT = 8 << 30
# One line each under the table: what the column ran.
TOOL_DESC = {
    "rcleak": "build/librcleak.so preloaded, default options "
              "(4 MiB quarantine, 256 bytes poisoned per freed block)",
    "rcleak-q0": "rcleak with quarantine_mb=0",
    "rcleak-base": "rcleak with quarantine_mb=0:depth=1: interposing, the "
                   "live-block table and the canary, with a one-frame stack "
                   "(no unwinding) and no quarantine: rcleak - rcleak-q0 is "
                   "the quarantine's cost, rcleak-q0 - rcleak-base the "
                   "20-frame stacks'",
    "lsan-fp": "LeakSanitizer (gcc's liblsan.so.0) preloaded, default "
               "fast_unwind_on_malloc=1: frame-pointer stacks, which -O2 "
               "code without frame pointers cuts short",
    "lsan-dwarf": "LeakSanitizer with fast_unwind_on_malloc=0: DWARF "
                  "unwinding, full stacks as rcleak takes them",
    "heaptrack": "heaptrack -o FILE (the whole run: the program, "
                 "heaptrack_interpret and zstd)",
    "valgrind": "valgrind --leak-check=full --trace-children=yes",
}
# What a cell alone would not tell, found on this machine (Debian 12).
CELL_NOTES = {
    ("gcc", "heaptrack"): (
        "§", "heaptrack follows no child process (its preload takes itself "
        "out of their environment): on gcc it profiles the driver only, "
        "cc1 and as run untraced."),
    ("deep", "heaptrack"): (
        "¶", "heaptrack 1.4's heaptrack_interpret grows without bound on "
        "deep's 4096 distinct 50-frame stacks (past 18 GiB when not "
        "capped) and dies with std::bad_alloc; here it is capped at "
        f"{HEAPTRACK_AS_LIMIT >> 30} GiB of address space."),
}


class Cmd:
    """A prepared run: argv, optional stdin file, extra environment."""

    def __init__(self, argv, stdin=None, env=None):
        self.argv = [str(a) for a in argv]
        self.stdin = stdin
        self.env = env or {}


# ---- workloads: each prepare(dir, scale) writes its inputs, returns a Cmd --

def synthetic(mode):
    def prepare(_dir, scale):
        return Cmd([WORKLOAD, mode, f"{scale:g}"])
    return prepare


PY_SNIPPET = r"""
import json, sys
n = int(sys.argv[1])
rows = [{"id": i, "name": "item%d" % i, "tags": [str(j) for j in range(i % 7)],
         "v": i * 0.5} for i in range(n)]
back = json.loads(json.dumps(rows))
index = {}
for r in back:
    index.setdefault(r["name"][-3:], []).append((r["id"], tuple(r["tags"])))
words = sorted("w%x" % (i * 2654435761 % 1000003) for i in range(n))
text = " ".join(words)
counts = {}
for w in text.split():
    counts[w[:4]] = counts.get(w[:4], 0) + 1
print(len(back), len(index), len(counts), words[0], words[-1])
"""


def prepare_python(d, scale):
    script = d / "alloc.py"
    script.write_text(PY_SNIPPET)
    # PYTHONMALLOC=malloc: every object through malloc, not pymalloc's
    # arenas, so the tools see all of them. A fixed hash seed: same work
    # every run.
    return Cmd([PY, script, int(45000 * scale)],
               env={"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"})


PERL_SNIPPET = r"""
my $n = shift;
my %h;
$h{"key$_"} = [$_, "v" x ($_ % 13), { id => $_ }] for 1 .. $n;
my %inv;
while (my ($k, $v) = each %h) { push @{ $inv{ $v->[0] % 1000 } }, $k }
my @keys = sort keys %h;
delete $h{$_} for @keys[0 .. $#keys / 2];
my $s = join ",", map { scalar @{ $inv{$_} } } sort { $a <=> $b } keys %inv;
print scalar(keys %h), " ", length($s), "\n";
"""


def prepare_perl(d, scale):
    script = d / "hash.pl"
    script.write_text(PERL_SNIPPET)
    # Perl randomizes hash order per run; fix it for the same work each time.
    return Cmd(["perl", script, int(120000 * scale)],
               env={"PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0"})


GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_PAGER": "cat", "PAGER": "cat"}


def lcg(x):
    return (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)


def git_stream(commits, files=200, lines=120):
    """A git fast-import stream: `commits` commits, each changing a few
    lines of 6 of `files` text files. Deterministic, so every run of the
    timed command does the same work."""
    x = 1
    text = [[f"file {f} line {i} " + "x" * (i % 40) for i in range(lines)]
            for f in range(files)]
    out = []
    for c in range(commits):
        msg = f"commit {c}\n".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(b"committer Bench <bench@example.com> %d +0000\n"
                   % (1700000000 + c * 60))
        out.append(b"data %d\n%s" % (len(msg), msg))
        for _ in range(files if c == 0 else 6):
            x = lcg(x)
            f = (x >> 33) % files if c else _
            if c:
                for _k in range(3):
                    x = lcg(x)
                    text[f][(x >> 33) % lines] = f"changed {c} {x >> 40}"
            body = ("\n".join(text[f]) + "\n").encode()
            out.append(b"M 100644 inline dir%d/file%d.txt\n" % (f % 10, f))
            out.append(b"data %d\n%s\n" % (len(body), body))
    return b"".join(out)


def prepare_git(d, scale):
    repo = d / "repo"
    env = dict(os.environ, **GIT_ENV)
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True,
                   env=env)
    subprocess.run(["git", "-C", repo, "fast-import", "--quiet"], check=True,
                   input=git_stream(max(2, int(1500 * scale))), env=env)
    # Read-only and deterministic: inflates every blob, diffs every commit.
    return Cmd(["git", "-C", repo, "log", "-p", "--stat", "--no-color"],
               env=GIT_ENV)


GCC_FUNC = """
struct s{i} {{ int a[{k}]; double d; const char *name; struct s{i} *next; }};
static int helper{i}(struct s{i} *x, int n)
{{
	int t = 0;
	for (int i = 0; i < n; i++) {{
		switch ((i + {i}) % 5) {{
		case 0: t += x->a[i % {k}]; break;
		case 1: t ^= i * {m}; break;
		case 2: x->d += t * 0.5; break;
		case 3: t -= x->next ? x->next->a[0] : {i}; break;
		default: t += (int)x->d;
		}}
	}}
	return t;
}}
int f{i}(int n)
{{
	struct s{i} v = {{ {{0}}, {i}.0, "f{i}", 0 }};
	for (int i = 0; i < {k}; i++)
		v.a[i] = i * {m} + n;
	return helper{i}(&v, n) + (n > {k} ? f{i}(n - 1) : 0);
}}
"""


def prepare_gcc(d, scale):
    src = d / "gen.c"
    src.write_text("".join(GCC_FUNC.format(i=i, k=3 + i % 9, m=i * 7 + 1)
                           for i in range(max(1, int(70 * scale)))))
    # The driver runs cc1 and as: the tools must follow child processes.
    return Cmd(["gcc", "-O2", "-c", "-o", d / "gen.o", src])


SQL = """\
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, v REAL,
               payload TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})
INSERT INTO t(name, grp, v, payload)
  SELECT 'name' || x, x % 97, (x * 7919) % 10007 * 0.5,
         printf('%.*c', x % 200, 'p') FROM c;
CREATE INDEX t_grp ON t(grp, v);
CREATE INDEX t_name ON t(name);
SELECT grp, count(*), sum(v), max(name) FROM t GROUP BY grp ORDER BY grp
  LIMIT 5;
SELECT count(*) FROM t a JOIN t b ON a.grp = b.grp AND a.id = b.id + 97;
UPDATE t SET payload = upper(payload), name = name || '!' WHERE grp % 3 = 0;
DELETE FROM t WHERE id % 4 = 0;
SELECT count(*), sum(length(payload)) FROM t;
SELECT group_concat(name) FROM (SELECT name FROM t ORDER BY v DESC LIMIT 20);
"""


def prepare_sqlite(d, scale):
    script = d / "bench.sql"
    script.write_text(SQL.format(n=max(10, int(200000 * scale))))
    # In memory: nothing carried over between runs.
    return Cmd(["sqlite3", ":memory:"], stdin=script)


WORKLOADS = {
    "churn": synthetic("churn"),
    "threads": synthetic("threads"),
    "tree": synthetic("tree"),
    "deep": synthetic("deep"),
    "python": prepare_python,
    "perl": prepare_perl,
    "git": prepare_git,
    "gcc": prepare_gcc,
    "sqlite": prepare_sqlite,
}


# ---- tools: each wraps a Cmd into (argv, env) for one run directory ----

def tool_argv_env(tool, cmd, rundir, workload, lib):
    argv, env = list(cmd.argv), dict(cmd.env)
    if tool.startswith("rcleak"):
        opts = f"exitcode=0:log_path={rundir}/rcleak-%p.log"
        if workload == "tree":
            # The memory line of the text report; the JSON would list a
            # record per stack, and writing it is not what is timed here.
            opts += ":stats=1"
        if RCLEAK_VARIANTS[tool]:
            opts += ":" + RCLEAK_VARIANTS[tool]
        env.update(LD_PRELOAD=str(lib), RCLEAK_OPTIONS=opts)
    elif tool.startswith("lsan"):
        # fast_unwind_on_malloc=1 (the default) walks frame pointers, which
        # -O2 code does not keep; 0 unwinds with DWARF like rcleak does.
        opts = f"exitcode=0:log_path={rundir}/lsan"
        if tool == "lsan-dwarf":
            opts += ":fast_unwind_on_malloc=0"
        # lsan-init.so: see lsan_init.c (perl, git, sqlite3 crash without).
        env.update(LD_PRELOAD=f"{LSAN}:{LSAN_INIT}", LSAN_OPTIONS=opts)
    elif tool == "heaptrack":
        # heaptrack_interpret can grow without bound (deep: past 18 GiB,
        # then std::bad_alloc): an address-space cap makes that a quick
        # failure instead of the machine's memory.
        argv = ["prlimit", f"--as={HEAPTRACK_AS_LIMIT}", "heaptrack", "-o",
                f"{rundir}/ht"] + argv
    elif tool == "valgrind":
        # --trace-children: gcc's cc1 and as run under it too, as they do
        # under the preloaded tools.
        argv = ["valgrind", "--leak-check=full", "--trace-children=yes",
                f"--log-file={rundir}/vg.%p"] + argv
    return argv, env


def clean_env(extra):
    """The caller's environment without any tool already preloaded, in the
    C locale, plus the workload's own variables."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "RCLEAK_OPTIONS", "LSAN_OPTIONS",
                        "ASAN_OPTIONS", "MALLOC_CHECK_", "PYTHONMALLOC")}
    env["LC_ALL"] = "C"
    env.update(extra)
    return env


# ---- one timed run ----

class Result:
    def __init__(self):
        self.ok = False
        self.reason = ""
        self.hint = ""          # a telling stderr line of a failed run
        self.wall = None        # seconds, fork to wait
        self.rss_kib = None     # largest ru_maxrss in the process tree
        self.pairs = None       # "pairs N" printed by the synthetic ones
        self.exit_s = None      # wait return minus "bench-main-done T"
        self.metadata = None    # rcleak's JSON "metadata", on tree


def timed_run(argv, env, rundir, stdin, timeout):
    """Runs argv through build/bench/spawn (see spawn.c: it keeps the
    harness's own size out of the program's peak RSS) in a session of its
    own, outputs in rundir. Returns (pid, exit code, wall seconds,
    ru_maxrss KiB, timed out, end time on the monotonic clock); pid, code
    and RSS are None when it was killed. testlib's communicate_or_kill
    does not fit: it keeps the outputs in memory and has no rusage."""
    out = open(rundir / "stdout", "wb")
    err = open(rundir / "stderr", "wb")
    inp = open(stdin, "rb") if stdin else subprocess.DEVNULL
    usage = rundir / "spawn-rusage"
    timed_out = []

    def kill_group(pid):
        timed_out.append(True)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    t0 = time.monotonic()
    p = subprocess.Popen([SPAWN, usage] + argv, env=env, cwd=rundir,
                         stdin=inp, stdout=out, stderr=err,
                         start_new_session=True)
    timer = threading.Timer(timeout, kill_group, [p.pid])
    timer.start()
    p.wait()
    t1 = time.monotonic()
    timer.cancel()
    for f in (out, err) + ((inp,) if stdin else ()):
        f.close()
    try:
        pid, status, rss = map(int, usage.read_text().split())
    except (OSError, ValueError):
        return None, None, t1 - t0, None, bool(timed_out), t1
    return (pid, os.waitstatus_to_exitcode(status), t1 - t0, rss,
            bool(timed_out), t1)


def check_run(tool, rundir, pid, code, timed_out):
    """Why the run does not count, or "" when it does."""
    if timed_out:
        return "timeout"
    if code is None:
        return "spawn failed"
    if code != 0:
        return f"exit {code}"
    err = (rundir / "stderr").read_text(errors="replace")
    # A preload that did not load leaves a native run: never time that.
    if "cannot be preloaded" in err:
        return "preload failed"
    if tool.startswith("rcleak") and not (rundir / f"rcleak-{pid}.log").exists():
        return "no rcleak report"
    return ""


def run_one(tool, workload, cmd, rundir, lib, timeout):
    argv, extra = tool_argv_env(tool, cmd, rundir, workload, lib)
    res = Result()
    pid, code, wall, rss, timed_out, t_end = timed_run(
        argv, clean_env(extra), rundir, cmd.stdin, timeout)
    res.reason = check_run(tool, rundir, pid, code, timed_out)
    res.ok = not res.reason
    if not res.ok:
        res.hint = failure_hint(rundir / "stderr")
    res.wall, res.rss_kib = wall, rss
    out = (rundir / "stdout").read_text(errors="replace")
    m = re.search(r"^pairs (\d+)$", out, re.M)
    res.pairs = int(m.group(1)) if m else None
    err = (rundir / "stderr").read_text(errors="replace")
    m = re.search(r"^bench-main-done (\d+\.\d+)$", err, re.M)
    res.exit_s = t_end - float(m.group(1)) if m else None
    res.metadata = read_metadata(rundir)
    return res


def failure_hint(path):
    """The first stderr line that looks like the cause of a failure."""
    for line in path.read_text(errors="replace").splitlines():
        if re.search(r"(?i)error|bad_alloc|fault|terminat|abort|killed",
                     line):
            return line.strip()[:120]
    return ""


STATS_LINE = re.compile(
    r"rcleak memory: ([\d,]+) blocks tracked in ([\d,]+) KiB .*?"
    r"stack depot: ([\d,]+) stacks in ([\d,]+) KiB; quarantine: ([\d,]+) KiB")


def read_metadata(rundir):
    """rcleak's own memory from the stats=1 line of its text report (the
    same numbers as the JSON's "metadata"), or None when absent."""
    for log in sorted(rundir.glob("rcleak-*.log")):
        m = STATS_LINE.search(log.read_text(errors="replace"))
        if m:
            n = [int(g.replace(",", "")) for g in m.groups()]
            return {"tracked_blocks": n[0], "table_bytes": n[1] * 1024,
                    "depot_stacks": n[2], "depot_bytes": n[3] * 1024,
                    "quarantine_bytes": n[4] * 1024}
    return None


# ---- the whole run ----

def tool_scale(tool, base_scale):
    return round(base_scale * SMALL_SCALE.get(tool, (1.0, ""))[0], 6)


def plan(workloads, tools, base_scale):
    """For each workload, the (tool, scale) runs of one rep: native first,
    then each tool, a scaled-down tool right after its native baseline."""
    out = []
    for w in workloads:
        runs = [("native", base_scale)]
        for t in tools:
            s = tool_scale(t, base_scale)
            if s != base_scale and ("native", s) not in runs:
                runs.append(("native", s))
            if (t, s) not in runs:
                runs.append((t, s))
        out.append((w, runs))
    return out


def run_all(args, tmp, lib):
    results = {}        # (workload, tool, scale) -> [Result]
    prepared = {}       # (workload, scale) -> Cmd
    schedule = plan(args.only, args.tools, args.scale)
    for rep in range(args.reps):
        for w, runs in schedule:
            for tool, scale in runs:
                if (w, scale) not in prepared:
                    d = tmp / "inputs" / f"{w}-{scale:g}"
                    d.mkdir(parents=True)
                    prepared[w, scale] = WORKLOADS[w](d, scale)
                name = f"{w}-{tool}-s{scale:g}-r{rep + 1}"
                rundir = tmp / "runs" / name
                rundir.mkdir(parents=True)
                res = run_one(tool, w, prepared[w, scale], rundir, lib,
                              args.timeout)
                results.setdefault((w, tool, scale), []).append(res)
                status = "ok" if res.ok else f"FAIL ({res.reason})"
                rss = f"{res.rss_kib / 1024:8.1f} MiB" if res.rss_kib else ""
                print(f"[rep {rep + 1}/{args.reps}] {w:8} {tool:10} "
                      f"scale {scale:<5g} {res.wall:7.2f} s {rss:>12}  "
                      f"{status}",
                      file=sys.stderr, flush=True)
                if res.ok and not args.keep:
                    shutil.rmtree(rundir)
                elif not res.ok:
                    FAILED.mkdir(parents=True, exist_ok=True)
                    shutil.rmtree(FAILED / name, ignore_errors=True)
                    shutil.copytree(rundir, FAILED / name)
    return results


# ---- the report ----

def median(results, attr):
    vals = [getattr(r, attr) for r in results if getattr(r, attr) is not None]
    return statistics.median(vals) if vals else None


def good(results):
    """The runs to take medians of, or None when any failed: a failure is
    shown, never averaged away."""
    if not results or not all(r.ok for r in results):
        return None
    return results


def fmt_s(s):
    return f"{s:.2f} s" if s >= 0.1 else f"{s * 1000:.0f} ms"


def fmt_mib(kib):
    return f"{kib / 1024:.1f} MiB"


def cell(results, w, tool, scale, notes, marks):
    mark = CELL_NOTES.get((w, tool), ("", ""))[0]
    if mark:
        marks.add((w, tool))
    return cell_text(results, w, tool, scale, notes) + \
        (" " + mark if mark else "")


def cell_text(results, w, tool, scale, notes):
    runs = results.get((w, tool, scale))
    if runs is None:
        return "-"
    if not good(runs):
        bad = [r for r in runs if not r.ok]
        hint = f", stderr: `{bad[0].hint}`" if bad[0].hint else ""
        notes.append(f"{w}/{tool}: {len(bad)} of {len(runs)} runs failed "
                     f"({bad[0].reason}{hint}); outputs in "
                     f"build/bench/failed/")
        return f"FAIL ({bad[0].reason})"
    native = good(results.get((w, "native", scale)))
    if not native:
        return "n/a (native failed)"
    text = (f"{median(runs, 'wall') / median(native, 'wall'):.2f}x / "
            f"{median(runs, 'rss_kib') / median(native, 'rss_kib'):.2f}x")
    if tool in SMALL_SCALE:
        text += " " + SMALL_SCALE[tool][1]
    return text


def header():
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (f"{datetime.date.today().isoformat()}, Linux "
            f"{platform.release()}, {cpu}, {os.cpu_count()} cores")


def load_text(start_load):
    """Other work on the machine skews the numbers: say how busy it was."""
    end = os.getloadavg()[0]
    return f"load average {start_load:.2f} at the start, {end:.2f} at the end"


def first_line(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def dpkg_version(pkg):
    return first_line(["dpkg-query", "-W", "-f=${Version}", pkg])


def versions(lib_note):
    git_rev = first_line(["git", "-C", ROOT, "describe", "--always",
                          "--dirty"])
    m = re.search(r'RCLEAK_VERSION\s+"([^"]+)"',
                  (ROOT / "src" / "internal.h").read_text(errors="replace"))
    return ", ".join([
        f"rcleak {m.group(1) if m else '?'} ({git_rev}; {lib_note})",
        f"liblsan {dpkg_version('liblsan0')}",
        first_line(["heaptrack", "--version"]),
        first_line(["valgrind", "--version"]),
        first_line(["gcc", "--version"]),
        first_line([PY, "--version"]),
        "perl " + first_line(["perl", "-e", "print $^V"]),
        first_line(["git", "--version"]),
        "sqlite3 " + first_line(["sqlite3", "--version"]).split()[0],
    ])


def report(args, results, lib_note, start_load):
    base = args.scale
    tools = [t for t in args.tools if t != "native"]
    notes, marks = [], set()
    lines = [f"Benchmark: {header()}; {load_text(start_load)}.", "",
             f"Tools: {versions(lib_note)}.", "",
             f"Median of {args.reps} run(s) each, interleaved; scale "
             f"{base:g}. Cells: wall time / peak RSS, as ratios to native "
             f"on the same input.", "",
             "| workload | native wall | native RSS | " + " | ".join(tools)
             + " |",
             "| --- | ---: | ---: |" + " ---: |" * len(tools)]
    for w in args.only:
        native = good(results.get((w, "native", base)))
        nw = fmt_s(median(native, "wall")) if native else "FAIL"
        nr = fmt_mib(median(native, "rss_kib")) if native else "FAIL"
        cells = [cell(results, w, t, tool_scale(t, base), notes, marks)
                 for t in tools]
        lines.append(f"| {w} | {nw} | {nr} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {t}: {TOOL_DESC[t]}" for t in tools]
    for t, (_, mark) in SMALL_SCALE.items():
        if t in tools:
            s = tool_scale(t, base)
            lines.append(
                f"- {mark} {t} runs at scale {s:g} (synthetic workloads: "
                f"iterations x{s:g}; real programs: inputs x{s:g}); the "
                f"ratio is to native at that same scale.")
    lines += ["- " + " ".join(CELL_NOTES[k]) for k in CELL_NOTES
              if k in marks]
    lines.append("- Peak RSS is wait4's ru_maxrss: the largest single "
                 "process of the run (gcc: cc1; heaptrack: the program or "
                 "its interpreter), not their sum.")
    lines.append("")
    lines += detail_lines(args, results)
    if notes:
        lines += ["", "Failures:"] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def detail_lines(args, results):
    base = args.scale
    out = []

    def med(w, tool, attr, scale=base):
        runs = good(results.get((w, tool, scale)))
        return median(runs, attr) if runs else None

    for w in ("churn", "threads", "deep"):
        if w not in args.only:
            continue
        pairs, native = med(w, "native", "pairs"), med(w, "native", "wall")
        for tool in RCLEAK_VARIANTS:
            wall = med(w, tool, "wall")
            if tool in args.tools and wall and pairs and native:
                out.append(
                    f"- {tool} on {w}: {wall / pairs * 1e9:.0f} ns per "
                    f"malloc+free pair ({pairs:,} pairs), "
                    f"{(wall - native) / pairs * 1e9:.0f} ns over native.")
    if "tree" in args.only:
        meta = None
        for r in results.get(("tree", "rcleak", base), []):
            meta = meta or r.metadata
        if "rcleak" in args.tools:
            out.append("- rcleak metadata per live block on tree: "
                       + metadata_text(meta) + ".")
        exits = []
        for tool in args.tools:
            s = tool_scale(tool, base)
            e = med("tree", tool, "exit_s", s)
            if e is not None:
                exits.append(f"{tool} {fmt_s(e)}"
                             + (f" (scale {s:g})" if s != base else ""))
        if exits:
            pairs = med("tree", "native", "pairs")
            out.append(f"- Time from the end of main to process exit on tree "
                       f"({pairs or '?':,} live blocks; rcleak and LSan "
                       f"classify them all): " + ", ".join(exits) + ".")
    return out


def metadata_text(meta):
    if not meta or not meta.get("tracked_blocks") or \
            meta.get("table_bytes") is None:
        return "n/a (no memory line in rcleak's report)"
    n = meta["tracked_blocks"]
    text = (f"{meta['table_bytes'] / n:.1f} bytes of live-block table "
            f"({meta['table_bytes']:,} bytes for {n:,} blocks)")
    extra = [f"{k} {meta[k]:,}" for k in ("depot_bytes", "quarantine_bytes")
             if isinstance(meta.get(k), int)]
    return text + ("; " + ", ".join(extra) if extra else "")


# ---- command line ----

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int,
                    default=int(os.environ.get("BENCH_REPS", "3")),
                    help="repetitions (default 3, or $BENCH_REPS)")
    ap.add_argument("--only", default=",".join(WORKLOADS),
                    help="comma list of workloads: " + ",".join(WORKLOADS))
    ap.add_argument("--tools", default=",".join(ALL_TOOLS),
                    help="comma list of tools: " + ",".join(ALL_TOOLS))
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiplies every workload's size (default 1)")
    ap.add_argument("--quick", action="store_true",
                    help="one rep at scale 0.25: a smoke test, not numbers")
    ap.add_argument("--timeout", type=float, default=TIMEOUT,
                    help=f"seconds per run (default {TIMEOUT})")
    ap.add_argument("--keep", action="store_true",
                    help="keep every run's outputs (the path is printed)")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.scale = 1, args.scale * 0.25
    args.only = [w for w in args.only.split(",") if w]
    args.tools = [t for t in args.tools.split(",") if t]
    # Columns in one order whatever the order asked.
    args.tools = [t for t in ALL_TOOLS if t in args.tools] + \
        [t for t in args.tools if t not in ALL_TOOLS]
    for name, given, known in (("workload", args.only, WORKLOADS),
                               ("tool", args.tools, ALL_TOOLS)):
        bad = [x for x in given if x not in known]
        if bad:
            ap.error(f"unknown {name}: {', '.join(bad)}")
    if "native" not in args.tools:
        args.tools.insert(0, "native")    # every ratio needs it
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    return args


def main():
    args = parse_args()
    for need in (LIB, WORKLOAD, SPAWN, LSAN_INIT):
        if not need.exists():
            sys.exit(f"bench: {need} is missing; run `make bench`")
    tmp = Path(tempfile.mkdtemp(prefix="rcleak-bench-"))
    # A private copy of the library: a rebuild during the run (make in
    # another shell) neither breaks runs nor mixes two builds in one table.
    lib = tmp / "librcleak.so"
    shutil.copy2(LIB, lib)
    lib_note = time.strftime("library built %Y-%m-%d %H:%M",
                             time.localtime(LIB.stat().st_mtime))
    start_load = os.getloadavg()[0]
    shutil.rmtree(FAILED, ignore_errors=True)   # notes name this run's only
    try:
        results = run_all(args, tmp, lib)
        text = report(args, results, lib_note, start_load)
    finally:
        if args.keep:
            print(f"bench: outputs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text, end="")
    print(f"(written to {RESULTS.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
