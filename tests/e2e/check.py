#!/usr/bin/env python3
"""End-to-end tests of rcleak: build tiny programs, run them preloaded, check
the JSON report (see shared/report-format.md) and the process's behaviour.

usage: tests/e2e/check.py [-j N] [--keep] [--list] [-v] [PATTERN...]

PATTERN selects cases whose name contains it (or matches it as a glob).
Each case prints "PASS name" or "FAIL name: reason"; the last line is
"N passed, N failed" and the exit status is 1 when anything failed.

Environment:
  RCLEAK_TEST_PREFIX  a command put in front of each test program, e.g.
                      "gdb --args" or "strace -f"; the program is then run
                      as PREFIX env LD_PRELOAD=... RCLEAK_OPTIONS=... prog
  RCLEAK_TEST_MODE    "run" (default: through scripts/rcleak-run) or
                      "preload" (LD_PRELOAD and RCLEAK_OPTIONS directly)
  CC, CXX, CLANG, CLANGXX   compilers (gcc, g++, clang, clang++)

python3 standard library only.
"""

import argparse
import concurrent.futures
import fnmatch
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from testlib import communicate_or_kill  # noqa: E402
PROGS = HERE / "progs"
BUILD = ROOT / "build" / "tests" / "e2e"
LIB = ROOT / "build" / "librcleak.so"
RUN = ROOT / "scripts" / "rcleak-run"
INCLUDE = ROOT / "include"

PREFIX = shlex.split(os.environ.get("RCLEAK_TEST_PREFIX", ""))
MODE = os.environ.get("RCLEAK_TEST_MODE", "run")
CC = os.environ.get("CC", "gcc")
CXX = os.environ.get("CXX", "g++")
CLANG = os.environ.get("CLANG", "clang")
CLANGXX = os.environ.get("CLANGXX", "clang++")

LEAK_KINDS = ["definitely_lost", "indirectly_lost", "possibly_lost",
              "still_reachable", "suppressed"]
LOST_KINDS = ["definitely_lost", "indirectly_lost"]
ERROR_KINDS = ["double_free", "invalid_free", "write_after_free",
               "heap_overflow", "mismatched_free"]
# libc functions that call malloc for the program: their caller counts.
LIBC_WRAPPERS = {"strdup", "strndup", "__strdup", "__strndup"}


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(got, want, what):
    if got != want:
        raise Fail(f"{what}: got {got!r}, want {want!r}")


# ---------------------------------------------------------------- building

O0 = ["-g", "-O0", "-fno-omit-frame-pointer", "-fno-inline"]
O2 = ["-g", "-O2", "-fomit-frame-pointer"]

VARIANTS = {
    # variant: (C compiler, C++ compiler, flags, extra link flags)
    "": (CC, CXX, O0, []),
    "O2": (CC, CXX, O2, []),
    "clang": (CLANG, CLANGXX, O0, []),
    "clang-O2": (CLANG, CLANGXX, O2, []),
    "static": (CC, CXX, O0, ["-static"]),
    # linked against librcleak.so by its path: loads where LD_PRELOAD
    # may not (a setgid program)
    "linked": (CC, CXX, O0, [str(ROOT / "build" / "librcleak.so")]),
}


def binary_name(prog, variant):
    return prog + ("." + variant if variant else "")


def compile_prog(prog, variant):
    """Builds progs/<prog>.c or .cpp; returns (path, None) or (None, why)."""
    src = PROGS / (prog + ".c")
    cxx = False
    if not src.exists():
        src = PROGS / (prog + ".cpp")
        cxx = True
    if not src.exists():
        return None, f"no source for {prog}"
    cc, cxxc, flags, link = VARIANTS[variant]
    comp = cxxc if cxx else cc
    if shutil.which(comp) is None:
        return None, f"compiler {comp} not found"
    shared = prog.startswith("lib")
    out = BUILD / (binary_name(prog, variant) + (".so" if shared else ""))
    deps = [src, PROGS / "common.h", INCLUDE / "rcleak.h", Path(__file__)]
    stamp = " ".join([comp] + flags + link)
    stampf = out.with_suffix(out.suffix + ".flags")
    if out.exists() and stampf.exists() and stampf.read_text() == stamp:
        newest = max(d.stat().st_mtime for d in deps if d.exists())
        if out.stat().st_mtime >= newest:
            return out, None
    std = ["-std=gnu++17"] if cxx else ["-std=gnu11"]
    cmd = [comp] + std + flags + ["-Wall", "-Wno-unused-result",
                                  "-Wno-mismatched-new-delete",
                                  "-Wno-free-nonheap-object",
                                  "-Wno-unknown-warning-option",
                                  "-I", str(INCLUDE), "-I", str(PROGS),
                                  "-pthread", "-o", str(out), str(src)] + link
    if shared:
        cmd += ["-shared", "-fPIC"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if p.returncode != 0:
        lines = [ln for ln in p.stdout.splitlines() if "error" in ln]
        return None, ("compile failed: " + " | ".join((lines or
                      p.stdout.splitlines())[:3]))
    stampf.write_text(stamp)
    return out, None


# ---------------------------------------------------------------- reports

def parse_docs(text):
    """One or more JSON documents, concatenated."""
    dec = json.JSONDecoder()
    docs, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)


def fn_is(function, name):
    """Does a frame's function (plain, demangled or mangled) name `name`?"""
    if not function:
        return False
    f = function.strip()
    if f == name or f.startswith(name + "(") or f.startswith(name + "."):
        return True
    return re.fullmatch(r"_Z\w*?\d+" + re.escape(name) + r"\w*", f) is not None


def names(stack, n=None):
    out = [(fr.get("function") or "?") for fr in stack]
    return out if n is None else out[:n]


def frame_fn(stack, i):
    return stack[i].get("function") if len(stack) > i else None


def base(path):
    return os.path.basename(path or "")


def validate(r):
    """Checks the invariants of the contract that hold for every report."""
    where = f"report pid {r.get('pid')} ({r.get('_file')})"
    need(r.get("rcleak") == 1, f"{where}: \"rcleak\" is {r.get('rcleak')!r}")
    for key in ("version", "pid", "ppid", "exe", "when", "summary", "leaks",
                "errors"):
        need(key in r, f"{where}: no \"{key}\"")
    need(r["when"] in ("exit", "check", "watch"), f"{where}: bad when")
    s = r["summary"]
    for key in ("errors", "allocations", "frees"):
        need(isinstance(s.get(key), int), f"{where}: summary.{key} missing")
    for kind in LEAK_KINDS:
        t = s.get(kind)
        need(isinstance(t, dict) and isinstance(t.get("bytes"), int) and
             isinstance(t.get("blocks"), int), f"{where}: summary.{kind}")
        recs = [x for x in r["leaks"] if x.get("kind") == kind]
        got = (sum(x["bytes"] for x in recs), sum(x["blocks"] for x in recs))
        if kind == "suppressed":
            # Suppressed blocks are in no "leaks" entry; the suppressions
            # that matched account for them instead.
            eq(len(recs), 0, f"{where}: suppressed records in leaks")
            sup = r.get("suppressions", [])
            got = (sum(x["bytes"] for x in sup), sum(x["blocks"] for x in sup))
        eq(got, (t["bytes"], t["blocks"]),
           f"{where}: sum of {kind} records vs summary (bytes, blocks)")
    eq(s["errors"], len(r["errors"]), f"{where}: summary.errors vs errors")
    sizes = [x["bytes"] for x in r["leaks"]]
    need(sizes == sorted(sizes, reverse=True),
         f"{where}: leaks not sorted by bytes, largest first")

    def frames_ok(stack, what):
        need(isinstance(stack, list), f"{where}: {what} is not a list")
        for fr in stack:
            for key in ("ip", "function", "file", "line", "module", "offset"):
                need(key in fr, f"{where}: {what} frame without \"{key}\"")
            need(fr["module"] is not None, f"{where}: {what} module null")
            need(not base(fr["module"]).startswith("librcleak"),
                 f"{where}: {what} shows an rcleak frame {fr}")

    for x in r["leaks"]:
        need(x.get("kind") in LEAK_KINDS, f"{where}: leak kind {x.get('kind')}")
        need(x.get("blocks", 0) >= 1, f"{where}: record with no blocks")
        frames_ok(x.get("stack"), "leak stack")
    for e in r["errors"]:
        need(e.get("kind") in ERROR_KINDS, f"{where}: error kind {e.get('kind')}")
        for key in ("stack", "alloc_stack", "free_stack"):
            frames_ok(e.get(key), "error " + key)
        need("address" in e, f"{where}: error without address")


class Report(dict):
    """A parsed report with helpers; `exe` is the test binary."""

    def __init__(self, doc, exe):
        super().__init__(doc)
        self.exe = exe

    def total(self, kinds):
        return (sum(self["summary"][k]["bytes"] for k in kinds),
                sum(self["summary"][k]["blocks"] for k in kinds))

    def in_exe(self, frame):
        return base(frame.get("module")) == base(str(self.exe))

    def own(self, kinds=LOST_KINDS):
        """Loss records made by the program's own code, not by libc's or
        libstdc++'s start-up: frame 0 is in the test executable (or a libc
        wrapper such as strdup called from it)."""
        out = []
        for x in self["leaks"]:
            if x["kind"] not in kinds or not x["stack"]:
                continue
            st = x["stack"]
            if self.in_exe(st[0]) or (
                    (st[0].get("function") or "") in LIBC_WRAPPERS and
                    len(st) > 1 and self.in_exe(st[1])):
                out.append(x)
        return out

    def own_total(self, kinds=LOST_KINDS):
        recs = self.own(kinds)
        return (sum(x["bytes"] for x in recs), sum(x["blocks"] for x in recs))

    def describe_leaks(self, recs=None):
        recs = self["leaks"] if recs is None else recs
        return "; ".join(f"{x['kind']} {x['bytes']}/{x['blocks']} "
                         f"{x.get('allocator')} @ {names(x['stack'], 3)}"
                         for x in recs[:8]) or "none"

    def describe_errors(self):
        return "; ".join(f"{e['kind']} off={e.get('offset')} size="
                         f"{e.get('size')} @ {names(e['stack'], 2)}"
                         for e in self["errors"][:8]) or "none"

    def expect_lost(self, bytes_blocks, own=False, kinds=LOST_KINDS):
        got = self.own_total(kinds) if own else self.total(kinds)
        if got != tuple(bytes_blocks):
            raise Fail(f"{'own ' if own else ''}{'+'.join(kinds)} (bytes, "
                       f"blocks) = {got}, want {tuple(bytes_blocks)}; leaks: "
                       f"{self.describe_leaks()}")

    def expect_no_errors(self):
        if self["errors"]:
            raise Fail(f"unexpected errors: {self.describe_errors()}")

    def expect_errors(self, kinds):
        got = [e["kind"] for e in self["errors"]]
        if got != list(kinds):
            raise Fail(f"errors {got}, want {list(kinds)}: "
                       f"{self.describe_errors()}")
        return self["errors"]

    def record(self, frame0, kinds=LOST_KINDS, within=1):
        """The one loss record whose frame 0 (or up to frame within-1) is
        function frame0."""
        recs = [x for x in self["leaks"] if x["kind"] in kinds and any(
            fn_is(frame_fn(x["stack"], i), frame0) for i in range(within))]
        if len(recs) != 1:
            raise Fail(f"{len(recs)} loss records from {frame0}, want 1; "
                       f"leaks: {self.describe_leaks()}")
        return recs[0]


def expect_record(rep, frame0, bytes_, blocks, allocator=None, frame1=None,
                  kinds=LOST_KINDS, within=1):
    x = rep.record(frame0, kinds, within)
    eq((x["bytes"], x["blocks"]), (bytes_, blocks),
       f"record from {frame0} (bytes, blocks)")
    if allocator is not None:
        eq(x.get("allocator"), allocator, f"record from {frame0} allocator")
    if frame1 is not None:
        need(fn_is(frame_fn(x["stack"], 1), frame1),
             f"record from {frame0}: frame 1 is {frame_fn(x['stack'], 1)!r}, "
             f"want {frame1}; stack {names(x['stack'], 5)}")
    return x


def expect_frame(stack, i, name, what):
    need(fn_is(frame_fn(stack, i), name),
         f"{what}[{i}] is {frame_fn(stack, i)!r}, want {name}; stack "
         f"{names(stack, 5)}")


# ---------------------------------------------------------------- running

class Result:
    def __init__(self, rc, out, err, reports, launcher_pid, how, jsondir):
        self.rc, self.out, self.err = rc, out, err
        self.reports, self.launcher_pid, self.how = reports, launcher_pid, how
        self.jsondir = jsondir

    def tail(self):
        err = self.err.strip().splitlines()
        return " | ".join(err[-3:])[-400:]

    def expect_rc(self, *want):
        if self.rc not in want:
            raise Fail(f"exit status {self.rc}, want "
                       f"{' or '.join(map(str, want))}; stderr: {self.tail()}")

    def exit_report(self, exe=None):
        """The one exit report (of exe's processes, when given)."""
        reps = [r for r in self.reports if r["when"] == "exit" and
                (exe is None or base(r["exe"]) == base(str(exe)))]
        if len(reps) != 1:
            raise Fail(f"{len(reps)} exit reports, want 1 (files: "
                       f"{sorted(os.listdir(self.jsondir))}); rc {self.rc}; "
                       f"stderr: {self.tail()}")
        return reps[0]

    def expect_main_pid(self, rep):
        """rep comes from the process the test started (not a fork)."""
        if self.how in ("raw", "prefix"):
            return
        if self.how == "run":  # rcleak-run runs the program as its child
            eq(rep["ppid"], self.launcher_pid, "ppid (rcleak-run's pid)")
        else:
            eq(rep["pid"], self.launcher_pid, "pid")
            eq(rep["ppid"], os.getpid(), "ppid")


class Ctx:
    def __init__(self, case, exes, tmp, verbose):
        self.case, self.exes, self.tmp, self.verbose = case, exes, tmp, verbose
        self.exe = exes[0] if exes else None
        self.nrun = 0

    def newdir(self):
        self.nrun += 1
        d = self.tmp / f"run{self.nrun}"
        d.mkdir()
        return d

    def base_env(self):
        env = dict(os.environ)
        for k in ("LD_PRELOAD", "RCLEAK_OPTIONS", "RCLEAK_TEST_PREFIX"):
            env.pop(k, None)
        env["LC_ALL"] = "C"
        return env

    def run(self, args=(), opts=None, exe=None, how=None, raw_options=None,
            json=True, json_name="r-%p.json", cmd=None, cwd=None, env=None,
            timeout=None, stdin=None, runner_flags=(), check=True):
        """Runs exe (default: the case's binary) with rcleak.

        how: "run" (scripts/rcleak-run), "preload" (environment), "native"
        (no rcleak), "raw" (cmd as given, env as given). opts: dict of
        RCLEAK_OPTIONS besides json_path; raw_options: the whole
        RCLEAK_OPTIONS string (implies "preload")."""
        exe = str(exe or self.exe)
        how = how or ("preload" if raw_options is not None else MODE)
        d = self.newdir()
        jp = str(d / json_name)
        items = []
        if raw_options is not None:
            optstr = raw_options
        else:
            items = [f"{k}={v}" for k, v in (opts or {}).items()]
            optstr = ":".join(([f"json_path={jp}"] if json else []) + items)
        env = env if env is not None else self.base_env()
        if how == "raw":
            argv = list(cmd)
        elif how == "native":
            argv = [exe] + list(args)
        elif PREFIX and not runner_flags:  # rcleak-run's flags need it
            argv = PREFIX + ["env", f"LD_PRELOAD={LIB}",
                             f"RCLEAK_OPTIONS={optstr}", exe] + list(args)
        elif how == "run":
            argv = [str(RUN)] + (["--json", jp] if json and
                                 raw_options is None else [])
            rest = ":".join(items)
            if rest:
                argv += ["--options", rest]
            argv += list(runner_flags) + ["--", exe] + list(args)
        else:
            env["LD_PRELOAD"] = str(LIB)
            env["RCLEAK_OPTIONS"] = optstr
            argv = [exe] + list(args)
        if self.verbose:
            print(f"  $ {shlex.join(argv)}", file=sys.stderr)
        tmo = timeout or self.case.timeout
        done = communicate_or_kill(
            argv, tmo, stdin=stdin if stdin is not None else
            subprocess.DEVNULL, cwd=cwd or d, env=env)
        if done is None:
            raise Fail(f"timed out after {tmo}s: {shlex.join(argv)}")
        pid, rc, out, err = done
        out = out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
        m = re.search(r"SELF-CHECK FAILED[^\n]*", out)
        if m:
            raise Fail(f"test program: {m.group(0)}")
        reports = []
        for f in sorted(d.glob("*.json")):
            try:
                docs = parse_docs(f.read_text(errors="replace"))
            except ValueError as e:
                raise Fail(f"{f.name}: invalid JSON: {e}")
            for doc in docs:
                if not isinstance(doc, dict):
                    raise Fail(f"{f.name}: not a JSON object")
                doc["_file"] = f.name
                validate(doc)
                mm = re.fullmatch(r"r-(\d+)\.json", f.name)
                if mm and json_name == "r-%p.json":
                    eq(doc["pid"], int(mm.group(1)), f"pid in {f.name}")
                reports.append(Report(doc, exe))
        if PREFIX and not runner_flags and how in ("run", "preload"):
            how = "prefix"
        res = Result(rc, out, err, reports, pid, how, d)
        if self.verbose:
            print(f"  rc={rc} reports={len(reports)} stderr: "
                  f"{res.tail()}", file=sys.stderr)
        if not check:
            return res
        if json and how not in ("native", "raw") and raw_options is None \
                and not reports and rc != 125:
            raise Fail(f"no JSON report written; exit {rc}; "
                       f"stderr: {res.tail()}")
        if how == "run" and rc == 125:
            raise Fail(f"rcleak-run failed (125): {res.tail()}")
        return res


class Case:
    def __init__(self, name, fn, progs, timeout):
        self.name, self.fn, self.progs, self.timeout = name, fn, progs, timeout


CASES = []


def case(name, *progs, timeout=30):
    """Registers a case; progs are "prog" or "prog:variant" to build."""
    def deco(fn):
        CASES.append(Case(name, fn, list(progs), timeout))
        return fn
    return deco


# ---------------------------------------------------------------- cases
# Leaks

def check_leak_simple(ctx):
    res = ctx.run()
    res.expect_rc(23)
    rep = res.exit_report()
    res.expect_main_pid(rep)
    eq(base(rep["exe"]), base(str(ctx.exe)), "exe")
    rep.expect_no_errors()
    rep.expect_lost((96, 3))
    rep.expect_lost((96, 3), kinds=["definitely_lost"])
    lost = [x for x in rep["leaks"] if x["kind"] in LOST_KINDS]
    eq(len(lost), 1, "lost records")
    expect_record(rep, "make_node", 96, 3, "malloc", frame1="main")
    eq((rep["summary"]["allocations"], rep["summary"]["frees"]), (3, 0),
       "(allocations, frees)")
    return res, rep


@case("leak_simple", "leak_simple")
def _(ctx):
    res, rep = check_leak_simple(ctx)
    need(f"=={rep['pid']}==" in res.err,
         f"text report on stderr lacks '=={rep['pid']}==': {res.tail()}")
    need("make_node" in res.err, "text report does not name make_node")


@case("leak_simple_O2", "leak_simple:O2")
def _(ctx):
    check_leak_simple(ctx)


@case("leak_simple_clang", "leak_simple:clang")
def _(ctx):
    check_leak_simple(ctx)


@case("leak_simple_clang_O2", "leak_simple:clang-O2")
def _(ctx):
    check_leak_simple(ctx)


@case("leak_indirect", "leak_indirect")
def _(ctx):
    res = ctx.run()
    res.expect_rc(23)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((96, 4))
    need(rep["summary"]["definitely_lost"]["blocks"] >= 1,
         "no block definitely lost")
    for x in rep["leaks"]:
        if x["kind"] in LOST_KINDS:
            expect_frame(x["stack"], 0, "push", "stack")
            expect_frame(x["stack"], 1, "build_and_drop", "stack")


def check_deep(ctx, depth=None):
    opts = {"exitcode": 0}
    if depth:
        opts["depth"] = depth
    res = ctx.run(opts=opts)
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((123, 1))
    x = rep.record("leaf")
    want = ["leaf", "level3", "level2", "level1", "main"]
    if depth:
        eq(len(x["stack"]), depth, f"stack depth with depth={depth}")
        want = want[:depth]
    for i, name in enumerate(want):
        expect_frame(x["stack"], i, name, "stack")


@case("deep_stack", "deep_stack")
def _(ctx):
    check_deep(ctx)


@case("deep_stack_O2", "deep_stack:O2")
def _(ctx):
    check_deep(ctx)


@case("deep_stack_clang", "deep_stack:clang")
def _(ctx):
    check_deep(ctx)


@case("deep_stack_clang_O2", "deep_stack:clang-O2")
def _(ctx):
    check_deep(ctx)


@case("depth_option_2", "deep_stack")
def _(ctx):
    check_deep(ctx, depth=2)


@case("depth_option_1_O2", "deep_stack:O2")
def _(ctx):
    check_deep(ctx, depth=1)


def stack_key(x):
    return (x["kind"], x["bytes"], x["blocks"],
            tuple((f["module"], f["offset"]) for f in x["stack"]))


def check_unwind_paths(ctx):
    """The cached unwinder gives libunwind's stacks, frame for frame."""
    reps = {}
    for cache in (1, 0):
        res = ctx.run(opts={"exitcode": 0, "unwind_cache": cache})
        res.expect_rc(0)
        reps[cache] = res.exit_report()
        reps[cache].expect_no_errors()
        reps[cache].expect_lost((1130, 10))
    fast = sorted(stack_key(x) for x in reps[1]["leaks"])
    slow = sorted(stack_key(x) for x in reps[0]["leaks"])
    eq(fast, slow, "loss records with unwind_cache=1 and 0")
    rep = reps[1]
    # An unrolled loop calls from three places: sum over the records.
    for path, size in (("path_a", 100), ("path_b", 200)):
        recs = [x for x in rep["leaks"] if x["bytes"] % size == 0 and
                fn_is(frame_fn(x["stack"], 2), path)]
        eq(sum(x["blocks"] for x in recs), 3, f"blocks from {path}")
        eq(sum(x["bytes"] for x in recs), 3 * size, f"bytes from {path}")
        for x in recs:
            for i, name in enumerate(["leak", "mid", path, "main"]):
                expect_frame(x["stack"], i, name, f"{path} stack")
    for x in [x for x in rep["leaks"] if x["bytes"] == 50]:
        for i, name in enumerate(["leak", "in_alloca", "main"]):
            expect_frame(x["stack"], i, name, "alloca stack")
    expect_frame(rep.record("thread_leaf", within=2)["stack"], 2,
                 "thread_main", "thread stack")


@case("unwind_cache_same_stacks", "unwind_paths")
def _(ctx):
    check_unwind_paths(ctx)


@case("unwind_cache_same_stacks_O2", "unwind_paths:O2")
def _(ctx):
    check_unwind_paths(ctx)


@case("unwind_cache_same_stacks_clang_O2", "unwind_paths:clang-O2")
def _(ctx):
    check_unwind_paths(ctx)


# Every interposed function

@case("calloc", "calloc")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((63, 1))
    expect_record(rep, "make_table", 63, 1, "calloc", frame1="main")
    eq((rep["summary"]["allocations"], rep["summary"]["frees"]), (2, 1),
       "(allocations, frees)")


@case("malloc_zero", "malloc_zero")
def _(ctx):
    res = ctx.run()
    res.expect_rc(23)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 1))
    expect_record(rep, "make_empty", 0, 1, "malloc")


@case("realloc", "realloc")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((48, 2))
    expect_record(rep, "grow_shrink", 8, 1, "realloc")
    x = expect_record(rep, "realloc_null", 40, 1)
    need(x.get("allocator") in ("realloc", "malloc"),
         f"realloc(NULL, 40) allocator {x.get('allocator')!r}")


@case("realloc_chain", "realloc_chain")
def _(ctx):
    res = ctx.run()
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))


@case("reallocarray", "reallocarray")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((160, 2))
    expect_record(rep, "make_array", 60, 1, "reallocarray")
    expect_record(rep, "grow_array", 100, 1, "reallocarray")


@case("aligned", "aligned")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((4512, 5))
    for fn, size, alloc in (("use_posix_memalign", 100, "posix_memalign"),
                            ("use_aligned_alloc", 256, "aligned_alloc"),
                            ("use_memalign", 50, "memalign"),
                            ("use_valloc", 10, "valloc"),
                            ("use_pvalloc", 4096, "pvalloc")):
        expect_record(rep, fn, size, 1, alloc, frame1="main")


@case("aligned_alloc_odd_alignments_and_pvalloc_0", "align_edges")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((78, 4))
    for fn, size, alloc in (("odd_alignment", 48, "aligned_alloc"),
                            ("zero_alignment", 10, "aligned_alloc"),
                            ("odd_memalign", 20, "memalign"),
                            ("empty_pvalloc", 0, "pvalloc")):
        expect_record(rep, fn, size, 1, alloc, frame1="main")


@case("cancel_thread_inside_check", "cancel_check", timeout=60)
def _(ctx):
    log = ctx.tmp / "log.txt"
    res = ctx.run(opts={"exitcode": 0, "log_path": str(log)}, timeout=60)
    eq(res.out, "joined\n", "stdout")
    res.expect_rc(0)
    need(any(r["when"] == "exit" for r in res.reports), "no exit report")


@case("json_valid_for_non_utf8_names", "leak_simple")
def _(ctx):
    odd = ctx.tmp / "leak\udcff"  # the byte 0xff in the file name
    shutil.copy(ctx.exe, odd)
    out = ctx.tmp / "out.json"
    res = ctx.run(how="preload", raw_options=f"json_path={out}:exitcode=0",
                  exe=odd)
    res.expect_rc(0)
    raw = out.read_bytes()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Fail(f"the JSON report is not valid UTF-8 JSON: {e}")
    need(doc["exe"].endswith("/leak\u00ff"),
         f"exe {doc['exe']!r} does not end in /leak\\u00ff")


@case("malloc_usable_size", "usable_size")
def _(ctx):
    res = ctx.run()
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))


@case("strdup", "strdup")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((17, 2))
    expect_record(rep, "dup_it", 13, 1, within=2)
    expect_record(rep, "ndup_it", 4, 1, within=2)


@case("module_file_mapped_below_it", "module_mapped_below", "libdso_leak")
def _(ctx):
    # A mapping of the module's file just below it once took the module's
    # place in the report: its frames had no names.
    res = ctx.run(args=[str(ctx.exes[1])], opts={"exitcode": 0})
    res.expect_rc(0)
    eq(res.out, "mapped below\n", "stdout")
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((45, 1))
    x = expect_record(rep, "dso_make", 45, 1, "malloc")
    eq(base(x["stack"][0]["module"]), base(str(ctx.exes[1])),
       "frame 0 module")


@case("module_loaded_by_a_relative_path", "dlopen_then_chdir", "libdso_leak")
def _(ctx):
    # A module's name as the loader keeps it ("./x.so") may no longer lead
    # to its file once the program has changed directory.
    lib = ctx.exes[1]
    res = ctx.run(args=[str(lib.parent), lib.name], opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((45, 1))
    x = expect_record(rep, "dso_make", 45, 1, "malloc")
    eq(base(x["stack"][0]["module"]), lib.name, "frame 0 module")


@case("counts", "counts")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((17, 1))
    expect_record(rep, "keep_one", 17, 1, "malloc")
    eq((rep["summary"]["allocations"], rep["summary"]["frees"]), (3, 2),
       "(allocations, frees) with 3 x free(NULL)")


@case("big_alloc", "big_alloc")
def _(ctx):
    res = ctx.run()
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))


# C++

def check_cxx_new(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    for fn, size, alloc in (("make_int", 4, "new"), ("make_arr", 40, "new[]"),
                            ("make_nothrow", 8, "new"),
                            ("make_nothrow_arr", 5, "new[]"),
                            ("make_aligned", 64, "new"),
                            ("make_aligned_arr", 128, "new[]")):
        expect_record(rep, fn, size, 1, alloc, frame1="main")
    rep.expect_lost((249, 6), own=True)


@case("cxx_new", "cxx_new")
def _(ctx):
    check_cxx_new(ctx)


@case("cxx_new_clang_O2", "cxx_new:clang-O2")
def _(ctx):
    check_cxx_new(ctx)


@case("cxx_paired", "cxx_paired")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0), own=True)


@case("mismatched_free", "mismatched")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    need("done" in res.out, "program did not go on after the errors")
    rep = res.exit_report()
    errs = rep.expect_errors(["mismatched_free"] * 6)
    want = [("malloc_delete", "malloc", "delete"),
            ("malloc_delete_arr", "malloc", "delete[]"),
            ("new_free", "new", "free"),
            ("newarr_free", "new[]", "free"),
            ("newarr_delete", "new[]", "delete"),
            ("new_deletearr", "new", "delete[]")]
    for e, (fn, alloc, dealloc) in zip(errs, want):
        expect_frame(e["stack"], 0, fn, f"{fn}: stack")
        expect_frame(e["alloc_stack"], 0, fn, f"{fn}: alloc_stack")
        eq((e.get("allocator"), e.get("deallocator")), (alloc, dealloc),
           f"{fn}: (allocator, deallocator)")
    rep.expect_lost((0, 0), own=True)


# Errors

@case("double_free", "double_free")
def _(ctx):
    res = ctx.run()
    res.expect_rc(23)
    need("after second free" in res.out, "program did not go on")
    rep = res.exit_report()
    res.expect_main_pid(rep)
    rep.expect_lost((0, 0))
    e = rep.expect_errors(["double_free"])[0]
    eq(e.get("size"), 24, "size")
    need(re.fullmatch(r"0x[0-9a-f]+", str(e.get("address"))),
         f"address {e.get('address')!r}")
    expect_frame(e["stack"], 0, "free_twice", "stack")
    expect_frame(e["stack"], 1, "main", "stack")
    expect_frame(e["alloc_stack"], 0, "alloc_it", "alloc_stack")
    expect_frame(e["free_stack"], 0, "free_once", "free_stack")


def check_halt(ctx, args, kind, marker):
    res = ctx.run(args=args, opts={"halt_on_error": 1})
    res.expect_rc(-6, 134)
    need(marker not in res.out, f"program went on after the error ({marker})")
    need(len(res.reports) == 1, f"{len(res.reports)} reports, want 1")
    res.reports[0].expect_errors([kind])
    if "halted" in res.reports[0]:
        eq(res.reports[0]["halted"], True, "\"halted\"")


@case("halt_on_error_double_free", "double_free")
def _(ctx):
    check_halt(ctx, [], "double_free", "after second free")


@case("halt_on_error_invalid_free", "invalid_free")
def _(ctx):
    check_halt(ctx, ["interior"], "invalid_free", "after invalid free")


def check_invalid(ctx, variant, fn):
    res = ctx.run(args=[variant])
    res.expect_rc(23)
    need("after invalid free" in res.out, "program did not go on")
    rep = res.exit_report()
    rep.expect_lost((0, 0))
    e = rep.expect_errors(["invalid_free"])[0]
    expect_frame(e["stack"], 0, fn, "stack")
    return e


@case("invalid_free_of_pointers_from_nowhere", "bad_pointers")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    eq(res.out, "realloc of an mmap page: NULL\n"
       "usable size of an unmapped address: 0\nsurvived\n", "stdout")
    rep = res.exit_report()
    errs = rep.expect_errors(["invalid_free"] * 6)
    eq(errs[0]["address"], "0x10", "first address")
    for e in errs[:5]:
        eq(e["deallocator"], "free", "deallocator")
        expect_frame(e["stack"], 0, "free_bad", "stack")
    eq(errs[5]["deallocator"], "realloc", "deallocator of the last")
    expect_frame(errs[5]["stack"], 0, "main", "stack")
    rep.expect_lost((0, 0))


@case("invalid_free_stack", "invalid_free")
def _(ctx):
    check_invalid(ctx, "stack", "free_stack_ptr")


@case("invalid_free_global", "invalid_free")
def _(ctx):
    check_invalid(ctx, "global", "free_global_ptr")


@case("invalid_free_interior", "invalid_free")
def _(ctx):
    e = check_invalid(ctx, "interior", "free_interior_ptr")
    eq(e.get("offset"), 16, "offset into the block")
    expect_frame(e["alloc_stack"], 0, "alloc_interior", "alloc_stack")
    eq(e.get("allocator"), "malloc", "allocator")


@case("invalid_free_never_allocated", "invalid_free")
def _(ctx):
    check_invalid(ctx, "never", "free_never_ptr")


def check_waf(ctx, variant, offset, size, opts=None):
    o = {"exitcode": 0}
    o.update(opts or {})
    res = ctx.run(args=[variant], opts=o)
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_lost((0, 0))
    e = rep.expect_errors(["write_after_free"])[0]
    eq((e.get("offset"), e.get("size")), (offset, size), "(offset, size)")
    expect_frame(e["alloc_stack"], 0, "alloc_buf", "alloc_stack")
    expect_frame(e["free_stack"], 0, "release_buf", "free_stack")


@case("write_after_free_at_exit", "write_after_free")
def _(ctx):
    check_waf(ctx, "exit", 37, 100)


@case("write_after_free_evicted", "write_after_free")
def _(ctx):
    check_waf(ctx, "evict", 5, 64, {"quarantine_mb": 1})


@case("write_after_free_large_block", "write_after_free")
def _(ctx):
    check_waf(ctx, "large", 65535, 1 << 20, {"poison_bytes": 65536})


@case("write_after_free_poison_bytes", "write_after_free")
def _(ctx):
    """Only the first poison_bytes of a freed block are poisoned."""
    res = ctx.run(args=["far"], opts={"exitcode": 0})
    res.expect_rc(0)
    res.exit_report().expect_no_errors()
    check_waf(ctx, "far", 300, 1000, {"poison_bytes": 1000})


@case("heap_overflow_at_free", "heap_overflow")
def _(ctx):
    # Checked at the free without a quarantine, as the block leaves it (or
    # at exit) with one: the same errors either way.
    for q in (0, 4):
        res = ctx.run(args=["free"], opts={"exitcode": 0, "quarantine_mb": q})
        res.expect_rc(0)
        rep = res.exit_report()
        rep.expect_lost((0, 0))
        errs = rep.expect_errors(["heap_overflow"] * 4)
        for e, (off, size, sfx) in zip(errs, ((0, 10, "a"), (3, 20, "b"),
                                              (1, 15, "c"), (0, 64, "d"))):
            eq((e.get("offset"), e.get("size")), (off, size),
               f"block {sfx}: (offset, size), quarantine_mb={q}")
            expect_frame(e["stack"], 0, "free_" + sfx, "stack")
            expect_frame(e["alloc_stack"], 0, "alloc_" + sfx, "alloc_stack")


@case("heap_overflow_never_freed", "heap_overflow")
def _(ctx):
    res = ctx.run(args=["never"], opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_lost((16, 1))
    e = rep.expect_errors(["heap_overflow"])[0]
    eq((e.get("offset"), e.get("size")), (5, 16), "(offset, size)")
    expect_frame(e["alloc_stack"], 0, "alloc_never", "alloc_stack")


@case("heap_overflow_at_realloc", "heap_overflow")
def _(ctx):
    res = ctx.run(args=["realloc"], opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_lost((0, 0))
    e = rep.expect_errors(["heap_overflow"])[0]
    eq((e.get("offset"), e.get("size")), (0, 8), "(offset, size)")
    expect_frame(e["stack"], 0, "grow_r", "stack")
    expect_frame(e["alloc_stack"], 0, "alloc_r", "alloc_stack")


# Exit status and output

@case("exit_leak_default_23", "exit_status")
def _(ctx):
    res = ctx.run(args=["leak"])
    res.expect_rc(23)
    expect_record(res.exit_report(), "lose_one", 11, 1, "malloc")


@case("exit_leak_exitcode0_own_status", "exit_status")
def _(ctx):
    ctx.run(args=["leak"], opts={"exitcode": 0}).expect_rc(5)


@case("exit_leak_exitcode42", "exit_status")
def _(ctx):
    ctx.run(args=["leak"], opts={"exitcode": 42}).expect_rc(42)


@case("exit_clean_return_7", "exit_status")
def _(ctx):
    res = ctx.run(args=["clean"])
    res.expect_rc(7)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))


@case("exit_clean_exit_7", "exit_status")
def _(ctx):
    res = ctx.run(args=["exit"])
    res.expect_rc(7)
    res.exit_report().expect_lost((0, 0))


@case("exit_with_thread_blocked_on_stdin", "exit_reader_thread")
def _(ctx):
    # stdin is a pipe that stays open, so the reader thread keeps blocking
    # (and holding stdin's lock) while main exits.
    feeder = subprocess.Popen(["sleep", "60"], stdout=subprocess.PIPE)
    try:
        res = ctx.run(stdin=feeder.stdout, timeout=30)
    finally:
        feeder.kill()
        feeder.wait()
    eq(res.out, "main done\n", "stdout")
    res.expect_rc(23)
    expect_record(res.exit_report(), "leak_ten", 10, 1, "malloc")


@case("cxx_nothrow_new_with_throwing_handler", "cxx_nothrow_handler")
def _(ctx):
    res = ctx.run()
    eq(res.out, "nothrow new: null\nnothrow new[]: null\ncaught bad_alloc\n",
       "stdout")
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))


@case("stdio_blocks_with_threads_running", "stdio_thread_running")
def _(ctx):
    res = ctx.run()
    eq(res.out, "hello\nworld\n", "stdout")
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))


@case("halt_on_error_keeps_output", "halt_keeps_output")
def _(ctx):
    res = ctx.run(opts={"halt_on_error": 1})
    eq(res.out, "output before the bug\n", "stdout")
    res.expect_rc(-signal.SIGABRT if res.rc < 0 else 128 + signal.SIGABRT)
    rep = res.exit_report()
    eq([e["kind"] for e in rep["errors"]], ["double_free"], "errors")
    # Blocks in use when it halted (stdout's buffer) are not leaks.
    eq(rep["leaks"], [], "leaks of a halted report")


@case("wide_stdout_with_threads_running", "wide_stdout_thread")
def _(ctx):
    res = ctx.run()
    eq(res.out, "hello wide\n", "stdout")
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))


@case("fork_while_another_thread_flushes", "fork_while_flushing",
      timeout=120)
def _(ctx):
    res = ctx.run(json=False, opts={"exitcode": 0}, timeout=120)
    eq(res.out, "done\n", "stdout")
    res.expect_rc(0)


def preload_env(ctx, options):
    env = ctx.base_env()
    env["LD_PRELOAD"] = str(LIB)
    env["RCLEAK_OPTIONS"] = options
    return env


@case("sigpipe_on_stdout_after_the_report", "pipe_output")
def _(ctx):
    out = ctx.tmp / "r.json"
    r, w = os.pipe()
    p = subprocess.Popen([str(ctx.exe), "leak"], stdout=w,
                         stderr=subprocess.DEVNULL,
                         env=preload_env(ctx, f"json_path={out}"))
    os.close(w)
    os.close(r)  # stdout's reader is gone before the program writes
    eq(p.wait(timeout=60), -signal.SIGPIPE, "exit status (as natively)")
    need(out.exists(), "no JSON report: SIGPIPE killed it first")
    rep = Report(parse_docs(out.read_text())[0], ctx.exe)
    expect_record(rep, "leak_five", 5, 1, "malloc")


@case("closed_stderr_pipe_does_not_kill_a_clean_program", "pipe_output")
def _(ctx):
    r, w = os.pipe()
    p = subprocess.Popen([str(ctx.exe)], stdout=subprocess.DEVNULL,
                         stderr=w, env=preload_env(ctx, "exitcode=23"))
    os.close(w)
    os.close(r)  # the report's writes into stderr find no reader
    eq(p.wait(timeout=60), 0, "exit status")


@case("many_open_streams_at_check", "many_streams")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    eq(res.out, "check=0\n", "stdout")
    checks = [r for r in res.reports if r["when"] == "check"]
    need(len(checks) == 1, f"{len(checks)} check reports, want 1")
    checks[0].expect_lost((0, 0))


@case("halt_on_error_despite_pending_cancel", "cancel_halt")
def _(ctx):
    res = ctx.run(opts={"halt_on_error": 1})
    eq(res.out, "pending output from worker\n", "stdout")
    res.expect_rc(-signal.SIGABRT if res.rc < 0 else 128 + signal.SIGABRT)


@case("loader_started_by_its_other_path", "stdio_thread_running")
def _(ctx):
    # The executable's PT_INTERP is /lib64/...; starting the loader by its
    # other name must not turn its own blocks (the thread's DTV) into leaks.
    loader = "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    if not os.path.exists(loader):
        raise Skip(f"no {loader}")
    res = ctx.run(how="raw", cmd=[loader, str(ctx.exe)],
                  env=preload_env(ctx, f"json_path={ctx.tmp}/r.json"),
                  json=False)
    res.expect_rc(0)
    rep = Report(parse_docs((ctx.tmp / "r.json").read_text())[0], ctx.exe)
    rep.expect_lost((0, 0))


def stripped_with_debuglink(ctx):
    """A copy of the program stripped, its debug info in a separate file
    named by .gnu_debuglink."""
    exe = ctx.tmp / "split_debug"
    dbg = ctx.tmp / "split_debug.debug"
    shutil.copy(ctx.exe, exe)
    subprocess.run(["objcopy", "--only-keep-debug", str(exe), str(dbg)],
                   check=True)
    subprocess.run(["objcopy", "--strip-all",
                    f"--add-gnu-debuglink={dbg}", str(exe)], check=True)
    return exe


@case("debug_info_from_gnu_debuglink", "split_debug")
def _(ctx):
    exe = stripped_with_debuglink(ctx)
    res = ctx.run(exe=exe, opts={"exitcode": 0})
    expect_record(res.exit_report(), "hidden_alloc", 17, 1, "malloc")


@case("stdout_preserved", "stdout_preserved")
def _(ctx):
    res = ctx.run()
    want = "x" * 5000 + "partial line, no newline: 42"
    if res.out != want:
        raise Fail(f"stdout is {len(res.out)} bytes ending "
                   f"{res.out[-40:]!r}, want {len(want)} ending "
                   f"{want[-40:]!r}")
    res.expect_rc(23)
    rep = res.exit_report()
    rep.expect_no_errors()
    expect_record(rep, "leak_ten", 10, 1, "malloc")
    rep.expect_lost((10, 1), own=True)


@case("fd2_closed_and_reused", "fd2_reuse")
def _(ctx):
    data = ctx.tmp / "data.txt"
    res = ctx.run(args=[str(data)])
    got = data.read_text(errors="replace") if data.exists() else None
    want = "program data line 1\nprogram data line 2\n"
    if got != want:
        raise Fail(f"data file holds {got!r:.300}, want {want!r}")
    res.expect_rc(23)
    rep = res.exit_report()
    expect_record(rep, "leak_some", 33, 1, "malloc")
    e = rep.expect_errors(["double_free"])[0]
    expect_frame(e["stack"], 0, "double_it", "stack")
    need(f"=={rep['pid']}==" in res.err,
         "text report not on the original stderr")


# Threads, fork

@case("threads_8x1M", "threads", timeout=400)
def _(ctx):
    t0 = time.time()
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((38400, 800), own=True)
    for x in rep.own():
        expect_frame(x["stack"], 0, "leak_one", "stack")
        expect_frame(x["stack"], 1, "worker", "stack")
    s = rep["summary"]
    need(s["allocations"] >= 8000800 and s["frees"] >= 8000000,
         f"allocations {s['allocations']}, frees {s['frees']}")
    if ctx.verbose:
        print(f"  threads: {time.time() - t0:.1f}s", file=sys.stderr)


@case("fork_two_reports", "fork")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    m = re.search(r"child=(\d+)", res.out)
    need(m, f"no child pid on stdout: {res.out!r}")
    child_pid = int(m.group(1))
    need(len(res.reports) == 2, f"{len(res.reports)} reports, want 2: "
         f"{sorted(os.listdir(res.jsondir))}")
    child = [r for r in res.reports if r["pid"] == child_pid]
    parent = [r for r in res.reports if r["pid"] != child_pid]
    need(len(child) == 1 and len(parent) == 1,
         f"report pids {[r['pid'] for r in res.reports]}, child {child_pid}")
    child, parent = child[0], parent[0]
    eq(child["when"], "exit", "child when")
    eq(parent["when"], "exit", "parent when")
    res.expect_main_pid(parent)
    eq(child["ppid"], parent["pid"], "child's ppid")
    for rep, who in ((parent, "parent"), (child, "child")):
        rep.expect_no_errors()
        expect_record(rep, "before_fork", 100, 1, "malloc")
    parent.expect_lost((190, 4))
    expect_record(parent, "parent_work", 90, 3)
    child.expect_lost((140, 3))
    expect_record(child, "child_work", 40, 2)


@case("main_returns_while_threads_run", "threads_at_exit")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0}, timeout=30)
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    expect_record(rep, "main_leak", 77, 1, "malloc")


@case("exit_from_other_thread", "thread_exit")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(3)
    rep = res.exit_report()
    rep.expect_no_errors()
    # The kind is not the point here (a stale copy of the pointer may lie
    # in the new thread's start frame, which glibc's start_thread fills
    # with the registers the thread was cloned with): the record is.
    expect_record(rep, "main_leak", 21, 1, "malloc", kinds=LEAK_KINDS[:4])


# Public API

@case("api_check", "api_check")
def _(ctx):
    copy = ctx.tmp / "copy.json"
    d = ctx.tmp / "run1"  # the directory ctx.run is about to make
    res = ctx.run(args=[str(d / "api.json"), str(copy)], json_name="api.json")
    need("first=1 second=0" in res.out,
         f"rcleak_check() returned {res.out.strip()!r}, want first=1 second=0")
    res.expect_rc(0)
    checks = [r for r in res.reports if r["when"] == "check"]
    if copy.exists():
        for doc in parse_docs(copy.read_text()):
            if doc.get("when") == "check":
                validate(doc)
                checks.append(Report(doc, ctx.exe))
    need(checks, f"no report with when=check: {os.listdir(d)}")
    with_leak = [r for r in checks if r.own_total() != (0, 0)]
    need(len(with_leak) == 1, f"{len(with_leak)} check reports with a leak")
    expect_record(with_leak[0], "leak_fifty", 50, 1, "malloc")
    with_leak[0].expect_lost((50, 1), own=True)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0), own=True)


@case("api_ignore_only", "api_ignore")
def _(ctx):
    res = ctx.run(args=["only"])
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))
    rep.expect_lost((40, 1), kinds=["still_reachable"])
    expect_record(rep, "make_ignored", 40, 1, kinds=["still_reachable"])


@case("api_ignore_plus_leak", "api_ignore")
def _(ctx):
    res = ctx.run(args=["both"])
    res.expect_rc(23)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((8, 1))
    rep.expect_lost((40, 1), kinds=["still_reachable"])
    expect_record(rep, "make_lost", 8, 1, "malloc")


@case("api_disable_enable", "api_disable")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    expect_record(rep, "thread_leak", 9, 1, "malloc")
    expect_record(rep, "make_six", 6, 1, "malloc")
    rep.expect_lost((15, 2), own=True)
    bad = [x for x in rep["leaks"] if x["kind"] in LOST_KINDS and
           any(fn_is(f.get("function"), "hidden_leak") for f in x["stack"])]
    need(not bad, f"block allocated while disabled reported: "
         f"{rep.describe_leaks(bad)}")


@case("api_without_library", "api_ignore", "api_disable")
def _(ctx):
    for exe, args in ((ctx.exes[0], ["both"]), (ctx.exes[1], [])):
        res = ctx.run(args=args, exe=exe, how="native", json=False)
        if res.rc != 0:
            raise Fail(f"{base(str(exe))} without rcleak exits {res.rc}")


# Options

def check_bad_option(ctx, raw, key, also=()):
    res = ctx.run(args=["clean"], raw_options=raw)
    res.expect_rc(1)
    need("main ran" not in res.out, "main ran despite a bad option")
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    need(len(lines) == 1, f"{len(lines)} lines on stderr, want 1: "
         f"{res.err.strip()[:300]!r}")
    need(key in lines[0], f"message does not name {key}: {lines[0]!r}")
    for word in also:
        need(word in lines[0], f"message lacks {word!r}: {lines[0]!r}")


# name: (RCLEAK_OPTIONS, the key the message must name, words it must hold)
BAD_OPTIONS = {
    "option_unknown_key": ("no_such_option=1", "no_such_option", []),
    "option_unknown_key_after_good": ("exitcode=0:depthh=3", "depthh", []),
    "option_depth_zero": ("depth=0", "depth", ["64"]),
    "option_depth_65": ("depth=65", "depth", ["64"]),
    "option_depth_text": ("depth=abc", "depth", []),
    "option_exitcode_256": ("exitcode=256", "exitcode", ["255"]),
    "option_halt_on_error_2": ("halt_on_error=2", "halt_on_error", []),
    "option_quarantine_negative": ("quarantine_mb=-1", "quarantine_mb", []),
    "option_missing_value": ("depth", "depth", []),
}


def bad_option_case(name, raw, key, also):
    @case(name, "exit_status")
    def _(ctx):
        check_bad_option(ctx, raw, key, also)


for _name, _args in BAD_OPTIONS.items():
    bad_option_case(_name, *_args)


@case("options_all_valid", "deep_stack")
def _(ctx):
    d = ctx.tmp
    raw = (f"depth=3:quarantine_mb=1:exitcode=9:halt_on_error=0:"
           f"log_path={d}/log-%p.txt:json_path={d}/j-%p.json")
    res = ctx.run(raw_options=raw)
    res.expect_rc(9)
    logs = list(d.glob("log-*.txt"))
    need(len(logs) == 1, f"log files: {logs}")
    jsons = list(d.glob("j-*.json"))
    need(len(jsons) == 1, f"json files: {jsons}")
    rep = Report(parse_docs(jsons[0].read_text())[0], ctx.exe)
    validate(rep)
    x = rep.record("leaf")
    eq(len(x["stack"]), 3, "stack depth with depth=3")


@case("log_path", "leak_simple")
def _(ctx):
    res = ctx.run(opts={"log_path": str(ctx.tmp / "log-%p.txt")})
    res.expect_rc(23)
    rep = res.exit_report()
    log = ctx.tmp / f"log-{rep['pid']}.txt"
    need(log.exists(), f"no {log.name}: {os.listdir(ctx.tmp)}")
    text = log.read_text(errors="replace")
    need(f"=={rep['pid']}==" in text and "make_node" in text,
         f"log lacks the report: {text[:200]!r}")
    need(f"=={rep['pid']}==" not in res.err,
         f"report also on stderr: {res.tail()}")


@case("log_path_unwritable", "leak_simple")
def _(ctx):
    bad = "/nonexistent-rcleak-dir/sub/log.txt"
    res = ctx.run(opts={"log_path": bad})
    res.expect_rc(23)
    rep = res.exit_report()
    need(bad in res.err or "log_path" in res.err,
         f"no message about the log path on stderr: {res.tail()}")
    need(f"=={rep['pid']}==" in res.err and "make_node" in res.err,
         f"report did not fall back to stderr: {res.tail()}")


@case("report_files_0600_and_symlinks_not_followed", "leak_simple")
def _(ctx):
    d = ctx.newdir()
    log, js = d / "log.txt", d / "r.json"
    res = ctx.run(opts={"log_path": str(log), "json_path": str(js)},
                  json=False)
    res.expect_rc(23)
    for f in (log, js):
        eq(oct(f.stat().st_mode & 0o777), oct(0o600), f"mode of {f.name}")
    victim = d / "victim.txt"
    victim.write_text("keep\n")
    for f in (log, js):
        f.unlink()
        f.symlink_to(victim)
    res = ctx.run(opts={"log_path": str(log), "json_path": str(js)},
                  json=False)
    res.expect_rc(23)
    eq(victim.read_text(), "keep\n", "the symlink's target")
    need("cannot open json_path" in res.err and "cannot open log_path"
         in res.err, f"no message about the links: {res.tail()}")
    need("96 bytes in 3 blocks are definitely lost" in res.err,
         f"report did not fall back to stderr: {res.tail()}")


@case("setgid_program_ignores_option_paths", "leak_simple:linked")
def _(ctx):
    # AT_SECURE: whoever sets RCLEAK_OPTIONS must not have a privileged
    # program write or read the files they name.
    if os.geteuid() != 0 or not shutil.which("chgrp"):
        raise Skip("needs root to make a setgid program")
    d = ctx.newdir()
    exe = d / "leak_setgid"
    shutil.copy(ctx.exe, exe)
    subprocess.run(["chgrp", "nogroup", str(exe)], check=True)
    os.chmod(exe, 0o2755)
    log, js, supp = d / "log.txt", d / "r.json", d / "supp.txt"
    supp.write_text("leak:make_node\n")
    env = ctx.base_env()
    env["RCLEAK_OPTIONS"] = f"log_path={log}:json_path={js}:suppressions={supp}"
    env["RCLEAK_RUN_DIR"] = str(d)
    res = ctx.run(how="raw", cmd=[str(exe)], env=env, json=False)
    res.expect_rc(23)
    need(not log.exists() and not js.exists(),
         f"report files written: {sorted(p.name for p in d.iterdir())}")
    need(not list(d.glob("active.*")), "rcleak-run marker written")
    need("elevated privileges" in res.err, f"no warning: {res.tail()}")
    need("96 bytes in 3 blocks are definitely lost" in res.err,
         f"report not on stderr, or suppressed: {res.tail()}")


@case("report_paths_on_a_full_device", "leak_simple")
def _(ctx):
    # Before: both reports vanished without a word.
    res = ctx.run(opts={"log_path": "/dev/full", "json_path": "/dev/full"},
                  json=False)
    res.expect_rc(23)
    need("rcleak: cannot write log_path '/dev/full': No space left on "
         "device; the report goes to stderr\n" in res.err and
         "rcleak: cannot write json_path '/dev/full': No space left on "
         "device\n" in res.err, f"no message: {res.tail()}")
    need("96 bytes in 3 blocks are definitely lost" in res.err,
         f"report did not fall back to stderr: {res.tail()}")


# rcleak-run and the library itself

@case("rcleak_run_help")
def _(ctx):
    res = ctx.run(how="raw", cmd=[str(RUN), "--help"], json=False,
                  env=ctx.base_env())
    res.expect_rc(0)
    text = res.out + res.err
    need("usage" in text.lower() and "--json" in text, "help text")


@case("rcleak_run_finds_library", "leak_simple")
def _(ctx):
    link = ctx.tmp / "rr"
    os.symlink(RUN, link)
    out = ctx.tmp / "elsewhere"
    out.mkdir()
    env = ctx.base_env()
    env["PATH"] = "/usr/bin:/bin"
    res = ctx.run(how="raw", json=False, env=env, cwd="/",
                  cmd=[str(link), "--json", f"{out}/x-%p.json", "--",
                       str(ctx.exe)])
    res.expect_rc(23)
    files = list(out.glob("x-*.json"))
    need(len(files) == 1, f"json files: {files}; stderr: {res.tail()}")
    rep = Report(parse_docs(files[0].read_text())[0], ctx.exe)
    validate(rep)
    rep.expect_lost((96, 3))


@case("symbolizing_loads_no_network_client", "leak_simple")
def _(ctx):
    # Looking up debug info for stripped modules (libc) must stay local:
    # elfutils' debuginfod client would load libcurl and run library
    # initialisers in a process that is exiting (it crashed ssh -V).
    stripped = ctx.tmp / "leak_simple_stripped"
    shutil.copy(ctx.exe, stripped)
    subprocess.run(["strip", str(stripped)], check=True)
    env = ctx.base_env()
    env["LD_DEBUG"] = "files"
    res = ctx.run(how="preload", opts={"exitcode": 0}, env=env,
                  exe=stripped)
    res.expect_rc(0)
    need("debuginfod" not in res.err and "libcurl" not in res.err,
         "libdebuginfod or libcurl was loaded at exit")


@case("rcleak_run_name_of_a_shell_builtin")
def _(ctx):
    # "true" is also a bash builtin: rcleak-run must run /usr/bin/true, so
    # the library is loaded and its status (0) passes through.
    res = ctx.run(how="raw", json=False,
                  cmd=[str(RUN), "--", "true"])
    res.expect_rc(0)
    need("not loaded" not in res.err, f"said not loaded: {res.tail()}")
    need("LEAK SUMMARY" in res.err, f"no report: {res.tail()}")


@case("rcleak_run_flag_equals_value", "deep_stack")
def _(ctx):
    res = ctx.run(how="run", runner_flags=["--depth=2", "--exitcode=9"])
    res.expect_rc(9)
    eq(len(res.exit_report().record("leaf")["stack"]), 2, "stack depth")


@case("rcleak_run_flags", "deep_stack")
def _(ctx):
    res = ctx.run(how="run", runner_flags=["--depth", "2", "--exitcode", "9",
                                           "--quarantine-mb", "1"])
    res.expect_rc(9)
    x = res.exit_report().record("leaf")
    eq(len(x["stack"]), 2, "stack depth with --depth 2")


@case("rcleak_run_halt_flag", "double_free")
def _(ctx):
    res = ctx.run(how="run", runner_flags=["--halt-on-error"])
    res.expect_rc(-6, 134)
    need("after second free" not in res.out, "program went on")


@case("rcleak_run_bad_depth", "exit_status")
def _(ctx):
    res = ctx.run(how="run", args=["clean"], runner_flags=["--depth", "0"],
                  check=False)
    need(res.rc not in (0, 7), f"exit status {res.rc}")
    need("depth" in res.err, f"no message naming depth: {res.tail()}")
    need("main ran" not in res.out, "main ran")
    # The library did run (and refused the option): exit 1, as by hand,
    # and no claim that it was never loaded.
    eq(res.rc, 1, "exit status")
    need("not loaded" not in res.err, f"says not loaded: {res.tail()}")


@case("exit_report_is_one_moment", "churn_at_exit", timeout=120)
def _(ctx):
    for _ in range(3):
        res = ctx.run(opts={"exitcode": 0})
        rep = res.exit_report()
        rep.expect_no_errors()
        listed = sum(x["blocks"] for x in rep["leaks"])
        live = rep["summary"]["allocations"] - rep["summary"]["frees"]
        eq(listed, live, "blocks listed vs allocations - frees")
        lost = rep["summary"]["definitely_lost"]["blocks"]
        need(lost <= 2, f"{lost} blocks lost, at most 2 are held")


@case("errors_past_the_cap_are_counted", "many_errors", timeout=120)
def _(ctx):
    res = ctx.run(opts={"depth": 2}, timeout=120)
    res.expect_rc(23)
    rep = res.exit_report()
    eq(rep["summary"]["errors"], 10000, "summary.errors")
    eq(len(rep["errors"]), 10000, "errors listed")
    eq(rep["summary"].get("errors_not_kept"), 5, "summary.errors_not_kept")
    eq(res.err.count("ERROR: invalid_free"), 1, "text lines per place")
    need("10,000 times" in res.err, f"no count in the text: {res.tail()}")


@case("relative_report_paths_survive_chdir", "chdir_leak")
def _(ctx):
    work = ctx.tmp / "work"
    (work / "sub").mkdir(parents=True)
    res = ctx.run(how="raw", json=False, cwd=work,
                  cmd=[str(RUN), "--json", "rel.json", "--log", "rel.log",
                       "--", str(ctx.exe)])
    res.expect_rc(23)
    need((work / "rel.json").exists() and (work / "rel.log").exists(),
         f"reports not in the starting directory: "
         f"{sorted(p.name for p in work.rglob('*'))}")
    rep = Report(parse_docs((work / "rel.json").read_text())[0], ctx.exe)
    expect_record(rep, "leak_five", 5, 1, "malloc")


@case("rcleak_run_static_binary", "exit_status:static")
def _(ctx):
    res = ctx.run(how="raw", json=False, env=ctx.base_env(),
                  cmd=[str(RUN), "--", str(ctx.exe), "clean"])
    need(res.rc != 0 and res.rc != 7,
         f"exit status {res.rc}, want non-zero and not the program's 7")
    need(re.search(r"not (been )?(active|loaded)|inactive", res.err, re.I),
         f"no 'library was not active' message: {res.tail()}")


@case("rcleak_run_children_combined_verdict", "leak_simple",
      "exit_status:static")
def _(ctx):
    # One report per process, then the wrapper's verdict over all of them:
    # a leaking child makes it 23 though the script itself exits 7.
    leaky, static = ctx.exes
    d = ctx.newdir()
    script = d / "parent.sh"
    script.write_text(f"#!/bin/bash\n{leaky} || true\nsh -c 'exit 0'\n"
                      f"exec {static} clean\n")
    script.chmod(0o755)
    res = ctx.run(how="raw", json=False, env=ctx.base_env(),
                  cmd=[str(RUN), "--", str(script)])
    res.expect_rc(23)
    need("3 processes checked: 1 with problems, 1 without a report"
         in res.err, f"no combined verdict: {res.tail()}")
    need(re.search(r"rcleak-run:   pid \d+ /\S+/bash: no report", res.err),
         f"the exec of the static program not told: {res.tail()}")
    need(re.search(rf"rcleak-run:   pid \d+ {re.escape(str(leaky))}: 96 bytes "
                   r"in 3 blocks definitely lost\n", res.err),
         f"the leaking child not told: {res.tail()}")
    script.write_text("#!/bin/bash\nsh -c 'exit 0'\nexit 3\n")
    res = ctx.run(how="raw", json=False, env=ctx.base_env(),
                  cmd=[str(RUN), "--", str(script)])
    res.expect_rc(3)
    need("2 processes checked: 0 with problems, 0 without a report"
         in res.err, f"no combined verdict: {res.tail()}")


@case("rcleak_run_verdict_counts_fork_children", "fork")
def _(ctx):
    # A fork() child that did not exec has a report but no start marker:
    # before, the verdict missed it.
    res = ctx.run(how="raw", json=False, env=ctx.base_env(),
                  cmd=[str(RUN), "--exitcode", "0", "--", str(ctx.exe)])
    res.expect_rc(0)
    m = re.search(r"child=(\d+)", res.out)
    need(m, f"no child pid on stdout: {res.out!r}")
    need("2 processes checked: 2 with problems, 0 without a report"
         in res.err, f"no verdict over both: {res.tail()}")
    need(re.search(rf"rcleak-run:   pid {m.group(1)} \S+: 140 bytes in 3 "
                   r"blocks definitely lost", res.err),
         f"the child not told: {res.tail()}")


def interrupted(ctx, args):
    """rcleak-run on sigint_wait, interrupted with SIGINT once ready."""
    d = ctx.newdir()
    env = ctx.base_env()
    p = subprocess.Popen([str(RUN), "--json", str(d / "r.json"), "--",
                          str(ctx.exe)] + args, env=env, cwd=d,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    need(p.stdout.readline() == "ready\n", "program did not start")
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    return p.returncode, err, d / "r.json"


@case("sigint_handled_reports_killed_says_so", "sigint_wait")
def _(ctx):
    rc, err, js = interrupted(ctx, ["handle"])
    eq(rc, 23, "exit status when the handler exits (a leak was found)")
    need("10 bytes in 1 blocks are definitely lost" in err or
         "10 bytes in 1 block is definitely lost" in err,
         f"no report after the handler's exit(): {err[-300:]}")
    need(js.exists(), "no JSON report")
    rc, err, js = interrupted(ctx, [])
    eq(rc, 130, "exit status when SIGINT kills it")
    need("was killed by SIGINT" in err, f"not told: {err[-300:]}")
    need(not js.exists(), "a report from a killed process")


def running_sleep(arg):
    """Pids of processes running as "sleep ARG" (rcleak-run's own command
    line ends with the same argument)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            args = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args[:2] == [b"sleep", arg.encode()]:
            pids.append(int(d.name))
    return pids


@case("rcleak_run_signal_while_starting_reaches_program")
def _(ctx):
    # A SIGTERM sent to rcleak-run at any moment of its start (a CI
    # runner's timeout) must reach the program, or come before the program
    # starts: never leave it running once rcleak-run is gone. When bash ran
    # the program as a job, its traps came just after the fork, and a
    # signal in between was lost: this test failed 4 runs in 4 then, with
    # 3 to 11 programs of 250 left running.
    env = ctx.base_env()

    def start_up():
        """Seconds from starting rcleak-run to the program's exec."""
        start = time.monotonic()
        p = subprocess.Popen([str(RUN), "--", "sleep", "30.5"], env=env,
                             stderr=subprocess.DEVNULL)
        while not running_sleep("30.5") and p.poll() is None:
            time.sleep(0.0002)
        took = time.monotonic() - start
        p.terminate()
        p.wait(timeout=60)
        return took

    started = sorted(start_up() for _ in range(3))[1]
    left = []
    trials = 250
    for i in range(trials):
        arg = f"30.{os.getpid() % 1000:03d}{i:03d}"
        p = subprocess.Popen([str(RUN), "--", "sleep", arg], env=env,
                             stderr=subprocess.DEVNULL)
        # Evenly over the second half of the start-up, where the program
        # is forked (here bash's window was at 57-88% of it).
        time.sleep(started * (0.5 + 0.5 * i / trials))
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        time.sleep(0.02)
        for pid in running_sleep(arg):
            left.append(arg)
            os.kill(pid, signal.SIGKILL)
    need(not left, f"{len(left)} of {trials} programs kept running after "
         f"rcleak-run got SIGTERM while starting them (start-up took "
         f"{started * 1000:.0f} ms)")


@case("rcleak_run_ctrl_c_reaches_program_once", "sigint_wait")
def _(ctx):
    # A terminal's Ctrl-C goes to the whole foreground process group: the
    # program has it already, and rcleak-run must not send it again (bash
    # passed every SIGINT on, so a program counting them saw two).
    master, slave = pty.openpty()
    # setsid -c: a session of its own, with this terminal as controlling.
    p = subprocess.Popen(["setsid", "-c", str(RUN), "--exitcode", "0", "--",
                          str(ctx.exe), "count"], env=ctx.base_env(),
                         stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 60
    sent = False

    try:
        while time.monotonic() < deadline:
            if not sent and b"ready" in out:
                os.write(master, b"\x03")
                sent = True
            if select.select([master], [], [], 1)[0]:
                out += os.read(master, 4096)
    except OSError:  # EIO: every process on the terminal has closed it
        pass
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
        rc = p.wait(timeout=60)
    text = out.decode(errors="replace")
    need("sigints 1\r\n" in text, f"not one SIGINT: {text[-400:]!r}")
    eq(rc, 0, "exit status")


@case("exported_symbols")
def _(ctx):
    p = subprocess.run(["nm", "-D", "--defined-only", str(LIB)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    eq(p.returncode, 0, "nm exit status")
    ok = re.compile(
        r"(malloc|free|cfree|dlclose|pthread_create|thrd_create|mmap|mmap64|munmap|mremap|_exit|_Exit|"
        r"calloc|realloc|reallocarray|posix_memalign|"
        r"aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|strdup|"
        r"strndup|_Zn[wa]\w+|_Zd[la]\w+|rcleak_\w+|_init|_fini)(@.*)?")
    bad = []
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] not in ("A",) and \
                not ok.fullmatch(parts[2]):
            bad.append(parts[2])
    need(not bad, f"unexpected exported symbols: {bad[:10]}")


@case("programs_native_selfcheck", "leak_simple", "calloc", "malloc_zero",
      "realloc", "realloc_chain", "reallocarray", "aligned", "usable_size",
      "strdup", "counts", "big_alloc", "deep_stack", "cxx_new", "cxx_paired",
      "exit_status", "fork", "api_ignore", "api_disable", "stdout_preserved",
      "thread_exit", "threads_at_exit", "leak_indirect", "check_while_busy",
      "many_threads", "cross_thread_free", "fork_threads", "recursion",
      "many_sizes", "at_exit_free", "cxx_bad_alloc", "system_popen",
      "stress_mix", "underscore_exit", "alloc_failures")
def _(ctx):
    """The test programs themselves are right: natively, no self-check
    fails and each exits as its header says (run without rcleak)."""
    special = {"exit_status": (["clean"], 7), "api_ignore": (["only"], 0),
               "thread_exit": ([], 3), "underscore_exit": ([], 5)}
    for exe in ctx.exes:
        args, want = special.get(base(str(exe)), ([], 0))
        res = ctx.run(exe=exe, args=args, how="native", json=False)
        if res.rc != want:
            raise Fail(f"{base(str(exe))} natively exits {res.rc}, want {want}")


# More: process life, scale, files, odd paths

@case("exit_error_exitcode0_own_status", "double_free")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    res.exit_report().expect_errors(["double_free"])


@case("fork_while_threads_allocate", "fork_threads", timeout=90)
def _(ctx):
    res = ctx.run(opts={"exitcode": 0}, timeout=90)
    res.expect_rc(0)
    need(len(res.reports) == 21, f"{len(res.reports)} reports, want 21")
    pids = {r["pid"] for r in res.reports}
    parents = [r for r in res.reports if r["ppid"] not in pids]
    need(len(parents) == 1, f"{len(parents)} reports without a parent report")
    parent = parents[0]
    parent.expect_no_errors()
    for r in res.reports:
        if r is parent:
            continue
        eq(r["ppid"], parent["pid"], "child's ppid")
        r.expect_no_errors()
        expect_record(r, "child_leak", 12, 1, "malloc")


@case("dlopen_dlclose_frames_kept", "dlopen_leak", "libdso_leak")
def _(ctx):
    res = ctx.run(args=[str(ctx.exes[1])], opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    x = expect_record(rep, "dso_make", 45, 1, "malloc", frame1="call_dso")
    eq(base(x["stack"][0]["module"]), base(str(ctx.exes[1])),
       "frame 0 module")


@case("dlopen_dlclose_three_times", "dlopen_cycles", "libdso_leak")
def _(ctx):
    res = ctx.run(args=[str(ctx.exes[1])], opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    # One record when the module came back at the same address, one per
    # address otherwise (as valgrind and LeakSanitizer group): 3 in all.
    recs = [x for x in rep["leaks"] if x["kind"] in LOST_KINDS
            and fn_is(frame_fn(x["stack"], 0), "dso_make")]
    eq((sum(x["bytes"] for x in recs), sum(x["blocks"] for x in recs)),
       (135, 3), "records from dso_make (bytes, blocks)")
    for x in recs:
        expect_frame(x["stack"], 1, "call_dso", "stack")
        eq(base(x["stack"][0]["module"]), base(str(ctx.exes[1])),
           "frame 0 module")


@case("exec_no_report_from_old_image", "exec_self")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    need(len(res.reports) == 1, f"{len(res.reports)} reports, want 1")
    rep = res.exit_report()
    rep.expect_no_errors()
    expect_record(rep, "second_leak", 5, 1, "malloc")
    big = [x for x in rep["leaks"] if x["bytes"] == 1000]
    need(not big, f"the old image's block is reported: "
         f"{rep.describe_leaks(big)}")


@case("many_blocks_and_sizes", "many_sizes", timeout=120)
def _(ctx):
    res = ctx.run(opts={"exitcode": 0}, timeout=120)
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    expect_record(rep, "leak_sized", 500500, 1000, "malloc")
    expect_record(rep, "leak_small", 8000000, 1000000, "malloc")
    rep.expect_lost((8500500, 1001000))


@case("report_after_destructors_and_atexit", "at_exit_free")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0), own=True)


@case("cross_thread_free", "cross_thread_free", timeout=90)
def _(ctx):
    res = ctx.run(opts={"exitcode": 0}, timeout=90)
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0), own=True)
    need(rep["summary"]["frees"] >= 200000, "frees < 200000")


@case("allocations_fail_and_rcleak_runs_out_of_memory", "alloc_failures",
      timeout=120)
def _(ctx):
    # Before: the blocks rcleak could not record were handed out anyway,
    # and freeing them gave 241,616 false invalid frees.
    res = ctx.run(opts={"exitcode": 0}, timeout=120)
    res.expect_rc(0)
    eq(res.out, "huge sizes: NULL with errno\n"
       "out of address space: NULL with ENOMEM\n", "stdout")
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((40, 1))
    expect_record(rep, "leak_after_running_out", 40, 1, "malloc")
    s = rep["summary"]
    eq(s["allocations"] - s["frees"], 1, "allocations - frees")
    # Usually the record table is first to fail under the limit (it grows
    # by doubling), sometimes glibc is: the report says which.
    eq(res.err.count("rcleak: out of internal memory"),
       0 if rep["complete"] else 1, "warnings when rcleak's memory ran out")


@case("underscore_exit_reports_once", "underscore_exit")
def _(ctx):
    # Before: no report at all, as dash ends with _exit().
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(5)
    eq(res.out, "parent ends with _exit(5)\n", "stdout")
    eq(len(res.reports), 1, "reports (the fork and vfork children make none)")
    rep = res.exit_report()
    res.expect_main_pid(rep)
    rep.expect_no_errors()
    rep.expect_lost((48, 1))
    expect_record(rep, "leak_before_underscore_exit", 48, 1, "malloc")
    res = ctx.run()
    res.expect_rc(23)


@case("signal_handler_allocates_inside_malloc", "signal_alloc", timeout=120)
def _(ctx):
    # Before reentry.c this hung at once: the handler waited for the table
    # lock its own interrupted free() held.
    res = ctx.run(opts={"exitcode": 0}, timeout=120)
    res.expect_rc(0)
    eq(res.out, "signals handled: many\n", "stdout")
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))
    rep.expect_lost((77, 1), kinds=["still_reachable"])
    expect_record(rep, "leak_after_signals", 77, 1, "malloc",
                  kinds=["still_reachable"])
    s = rep["summary"]
    eq(s["allocations"] - s["frees"], 1, "allocations - frees")


@case("stress_8_threads_every_function", "stress_mix", timeout=180)
def _(ctx):
    res = ctx.run(opts={"exitcode": 0}, timeout=180)
    res.expect_rc(0)
    eq(res.out, "intact\n", "stdout (block contents)")
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((1440, 24))
    for fn, size, allocator in (("leak_three", 100, "malloc"),
                                ("leak_three", 50, "new[]"),
                                ("leak_three", 30, "calloc")):
        recs = [x for x in rep.own() if x["bytes"] == 8 * size and
                x.get("allocator") == allocator and
                fn_is(frame_fn(x["stack"], 0), fn)]
        eq(len(recs), 1, f"records of {allocator}({size}) from {fn}")
    s = rep["summary"]
    eq(s["allocations"] - s["frees"], 24, "allocations - frees")
    need(s["allocations"] > 200000, f"allocations {s['allocations']}")


def check_recursion(ctx, depth):
    res = ctx.run(opts={"exitcode": 0, **({"depth": depth} if depth else {})})
    res.expect_rc(0)
    rep = res.exit_report()
    x = expect_record(rep, "recurse", 31, 1, "malloc")
    eq(len(x["stack"]), depth or 20, "stack length")
    need(all(fn_is(f.get("function"), "recurse") for f in x["stack"]),
         f"frames {names(x['stack'])}")


@case("depth_default_20", "recursion")
def _(ctx):
    check_recursion(ctx, None)


@case("depth_option_64", "recursion")
def _(ctx):
    check_recursion(ctx, 64)


@case("quarantine_zero_clean", "realloc_chain")
def _(ctx):
    res = ctx.run(opts={"quarantine_mb": 0})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0))


@case("rcleak_fds_closed_and_reused", "fds_reused")
def _(ctx):
    data = ctx.tmp / "data.txt"
    res = ctx.run(args=[str(data)])
    got = data.read_text(errors="replace") if data.exists() else None
    if got != "daemon data\n":
        raise Fail(f"data file holds {got!r:.300}, want 'daemon data\\n'")
    res.expect_rc(23)
    expect_record(res.exit_report(), "leak_it", 19, 1, "malloc")


@case("unwinder_keeps_no_descriptor", "fds_dlclose", "libdso_leak")
def _(ctx):
    data = ctx.tmp / "data.txt"
    res = ctx.run(args=[str(data), str(ctx.exes[1])], opts={"exitcode": 0})
    got = data.read_text(errors="replace") if data.exists() else None
    if got != "daemon data\n":
        raise Fail(f"data file holds {got!r:.300}, want 'daemon data\\n'; "
                   f"{res.tail()}")
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_lost((52, 2))
    expect_record(rep, "after_dlclose", 7, 1, "malloc")


@case("system_and_popen", "system_popen")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    eq(res.out, "system=3 popen=hello from sh\n", "stdout")
    rep = res.exit_report(exe=ctx.exe)
    rep.expect_no_errors()
    rep.expect_lost((0, 0), own=True)
    need(len(res.reports) >= 2, "the shells wrote no reports")
    for r in res.reports:
        if r["errors"]:
            raise Fail(f"errors in {r['exe']}: {r.describe_errors()}")


@case("cxx_bad_alloc", "cxx_bad_alloc")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    eq(res.out.strip(), "handler=1 caught=2 nothrow=null", "stdout")
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((0, 0), own=True)


@case("json_escaping_odd_exe_path", "leak_simple")
def _(ctx):
    odd = ctx.tmp / 'we"ird \\ dir \u00e9\t'
    odd.mkdir()
    exe = odd / 'prog "x"'
    shutil.copy(ctx.exe, exe)
    res = ctx.run(exe=exe, how="preload")
    res.expect_rc(23)
    rep = res.exit_report(exe=exe)
    eq(rep["exe"], str(exe), "exe")
    rep.expect_lost((96, 3))
    eq(rep["leaks"][0]["stack"][0]["module"], str(exe), "frame 0 module")


@case("frame_offset_gives_the_calls_line", "double_free")
def _(ctx):
    # module + offset of a frame is the call, not the return address:
    # addr2line on it names the line of the call, also when the call ends
    # its line (free(p); then SINK(); on the next line).
    res = ctx.run(opts={"exitcode": 0})
    err = res.exit_report()["errors"][0]
    for fr, want in ((err["stack"][0], "free(p)"),
                     (err["free_stack"][0], "free(p)"),
                     (err["alloc_stack"][0], "malloc(")):
        p = subprocess.run(["addr2line", "-e", fr["module"], fr["offset"]],
                           stdout=subprocess.PIPE, text=True, check=True)
        path, _, line = p.stdout.strip().rpartition(":")
        src = Path(path).read_text().splitlines()[int(line) - 1]
        need(want in src, f"{fr['function']}+{fr['offset']} is line {line}: "
             f"{src.strip()!r}, want the line with {want}")
        eq(int(fr["ip"], 16) & 0xfff, int(fr["offset"], 16) & 0xfff,
           "ip and offset agree")


@case("frame_offsets_symbolize", "leak_simple")
def _(ctx):
    """module + offset of frame 0 fall inside make_node per nm."""
    res = ctx.run()
    fr = res.exit_report().record("make_node")["stack"][0]
    off = int(fr["offset"], 16)
    p = subprocess.run(["nm", "-S", "--defined-only", str(ctx.exe)],
                       stdout=subprocess.PIPE, text=True)
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == "make_node":
            start, size = int(parts[0], 16), int(parts[1], 16)
            need(start <= off - 1 < start + size,
                 f"offset {fr['offset']} not in make_node "
                 f"[{start:#x}, {start + size:#x})")
            return
    raise Fail("nm does not list make_node")


@case("check_while_threads_allocate", "check_while_busy", timeout=60)
def _(ctx):
    res = ctx.run(opts={"exitcode": 0}, timeout=60)
    res.expect_rc(0)
    eq(res.out.strip(), "checks=20", "stdout")
    rep = res.exit_report()
    rep.expect_no_errors()
    for r in res.reports:
        r.expect_no_errors()


@case("many_short_threads_tsd", "many_threads", timeout=60)
def _(ctx):
    res = ctx.run(opts={"exitcode": 0}, timeout=60)
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_no_errors()
    rep.expect_lost((3900, 300), own=True)
    expect_record(rep, "thread_leak", 3900, 300, "malloc")


@case("double_free_without_quarantine", "double_free")
def _(ctx):
    """With quarantine_mb=0 the block is gone at once; the second free must
    still not reach the real free (no glibc abort): one error, either kind,
    and the program goes on."""
    res = ctx.run(opts={"exitcode": 0, "quarantine_mb": 0})
    res.expect_rc(0)
    need("after second free" in res.out, "program did not go on")
    rep = res.exit_report()
    kinds = [e["kind"] for e in rep["errors"]]
    need(kinds in (["double_free"], ["invalid_free"]),
         f"errors {kinds}, want one double_free or invalid_free")


@case("options_empty_string", "exit_status")
def _(ctx):
    res = ctx.run(args=["clean"], raw_options="")
    res.expect_rc(7)
    need("main ran" in res.out, "main did not run")


@case("json_path_unwritable", "leak_simple")
def _(ctx):
    bad = "/nonexistent-rcleak-dir/sub/r-%p.json"
    res = ctx.run(raw_options=f"json_path={bad}")
    res.expect_rc(23)
    need("nonexistent-rcleak-dir" in res.err or "json_path" in res.err,
         f"no message about the JSON path on stderr: {res.tail()}")
    need("make_node" in res.err, f"no text report on stderr: {res.tail()}")


# ---- suppressions ----

SUPP_ALL = (204, 6)  # supp_leaks without suppressions: (bytes, blocks)
SUPP_RECORDS = {"make_node": (72, 3), "make_buffer": (100, 1),
                "cache_entry_new": (32, 2)}


def supp_file(ctx, name, text):
    path = ctx.tmp / name
    path.write_text(text)
    return path


def supp_used(rep):
    """{pattern: (bytes, blocks, file, line)} of the JSON "suppressions"."""
    out = {}
    for x in rep.get("suppressions", []):
        out[x["pattern"]] = (x["bytes"], x["blocks"], x["file"], x["line"])
    return out


def expect_supp_records(rep, kept):
    """Exactly the supp_leaks records in `kept` are lost, with their
    counts; the others are suppressed, in no "leaks" entry."""
    for fn, (bytes_, blocks) in SUPP_RECORDS.items():
        recs = [x for x in rep["leaks"] if x["stack"] and
                fn_is(frame_fn(x["stack"], 0), fn)]
        if fn in kept:
            expect_record(rep, fn, bytes_, blocks, frame1="main")
        else:
            need(not recs, f"suppressed {fn} still has a record: "
                 f"{rep.describe_leaks(recs)}")
    want = tuple(map(sum, zip((0, 0), *[SUPP_RECORDS[f] for f in kept])))
    rep.expect_lost(want)
    gone = tuple(a - b for a, b in zip(SUPP_ALL, want))
    eq(rep.total(["suppressed"]), gone, "summary.suppressed (bytes, blocks)")


@case("supp_by_function", "supp_leaks")
def _(ctx):
    f = supp_file(ctx, "fn.supp", "# leaks we know about\n\nleak:make_node\n")
    res = ctx.run(opts={"suppressions": f})
    res.expect_rc(23)
    rep = res.exit_report()
    rep.expect_no_errors()
    expect_supp_records(rep, ["make_buffer", "cache_entry_new"])
    eq(supp_used(rep), {"make_node": (72, 3, str(f), 3)},
       "JSON suppressions")
    need(re.search(r"==\d+== Suppressions used:\n==\d+==   count      bytes "
                   r"template\n==\d+==       3         72 leak:make_node   "
                   r"\(\S*fn\.supp:3\)\n", res.err),
         f"text report lacks the suppressions used: {res.err[-800:]!r}")
    need("make_node" not in res.err.split("Suppressions used")[0],
         "the text report still shows the make_node record")


@case("supp_wildcard_and_anchors", "supp_leaks")
def _(ctx):
    # "^make_*" is make_node and make_buffer; "^node" and "entry$" match
    # nothing ("make_node" does not start with node, "cache_entry_new"
    # does not end with entry).
    f = supp_file(ctx, "wild.supp",
                  "leak:^node\nleak:entry$\nleak:^make_*\n")
    res = ctx.run(opts={"suppressions": f})
    res.expect_rc(23)
    rep = res.exit_report()
    expect_supp_records(rep, ["cache_entry_new"])
    eq(supp_used(rep), {"^make_*": (172, 4, str(f), 3)}, "JSON suppressions")


@case("supp_wildcard_middle", "supp_leaks")
def _(ctx):
    f = supp_file(ctx, "mid.supp", "leak:cache*_new$\n")
    res = ctx.run(opts={"suppressions": f})
    rep = res.exit_report()
    expect_supp_records(rep, ["make_node", "make_buffer"])
    eq(supp_used(rep), {"cache*_new$": (32, 2, str(f), 1)},
       "JSON suppressions")


@case("supp_by_module", "dlopen_leak", "libdso_leak")
def _(ctx):
    # The module path of a frame (here of a library dlclose()d since).
    f = supp_file(ctx, "mod.supp", "leak:libdso_leak.so\n")
    res = ctx.run(args=[str(ctx.exes[1])], opts={"suppressions": f})
    rep = res.exit_report()
    rep.expect_no_errors()
    need(not [x for x in rep["leaks"] if x["stack"] and
              fn_is(frame_fn(x["stack"], 0), "dso_make")],
         f"dso_make's record is not suppressed: {rep.describe_leaks()}")
    eq(rep.total(["suppressed"]), (45, 1), "summary.suppressed")
    eq(supp_used(rep), {"libdso_leak.so": (45, 1, str(f), 1)},
       "JSON suppressions")
    rep.expect_lost((0, 0), own=True)


@case("supp_by_source_file", "supp_leaks")
def _(ctx):
    first = ctx.run(opts={"exitcode": 0}).exit_report()
    x = first.record("make_node")
    if not x["stack"][0].get("file"):
        raise Skip("frames carry no source file yet")
    f = supp_file(ctx, "file.supp", "leak:supp_leaks.c\n")
    rep = ctx.run(opts={"suppressions": f}).exit_report()
    expect_supp_records(rep, [])


@case("supp_not_matching_leaves_leaks", "supp_leaks")
def _(ctx):
    f = supp_file(ctx, "none.supp",
                  "leak:no_such_function\nleak:^ake_node\nleak:make_node$x\n")
    res = ctx.run(opts={"suppressions": f})
    res.expect_rc(23)
    rep = res.exit_report()
    expect_supp_records(rep, list(SUPP_RECORDS))
    eq(rep.get("suppressions"), [], "JSON suppressions")
    need("Suppressions used" not in res.err,
         "text lists suppressions although none matched")


@case("supp_all_suppressed_exit_0", "supp_leaks")
def _(ctx):
    f = supp_file(ctx, "all.supp",
                  "leak:make_node\nleak:make_buffer\nleak:cache_entry_new\n")
    res = ctx.run(opts={"suppressions": f})
    res.expect_rc(0)
    eq(res.out, "done\n", "stdout")
    rep = res.exit_report()
    rep.expect_no_errors()
    expect_supp_records(rep, [])
    eq(supp_used(rep), {"make_node": (72, 3, str(f), 1),
                        "make_buffer": (100, 1, str(f), 2),
                        "cache_entry_new": (32, 2, str(f), 3)},
       "JSON suppressions")


@case("supp_reachable_never_suppressed", "api_ignore")
def _(ctx):
    f = supp_file(ctx, "reach.supp", "leak:^make_\n")
    res = ctx.run(args=["both"], opts={"suppressions": f})
    res.expect_rc(0)
    rep = res.exit_report()
    rep.expect_lost((0, 0))
    eq(rep.total(["suppressed"]), (8, 1), "summary.suppressed")
    expect_record(rep, "make_ignored", 40, 1, kinds=["still_reachable"])


@case("supp_malformed_lines_and_missing_file", "supp_leaks")
def _(ctx):
    f = supp_file(ctx, "bad.supp",
                  "# comment\nfoo:bar\n   \nleak make_node\n"
                  "  leak:make_buffer  \nleak:\n")
    missing = ctx.tmp / "missing.supp"
    d = ctx.tmp / f"run{ctx.nrun + 1}"  # the directory ctx.run will make
    res = ctx.run(raw_options=f"suppressions={f}:suppressions={missing}:"
                  f"json_path={d / 'r-%p.json'}")
    eq(res.out, "done\n", "stdout (the program ran to its end)")
    res.expect_rc(23)
    msgs = [ln for ln in res.err.splitlines() if ln.startswith("rcleak: ")]
    want = [f"rcleak: {f}:2: 'foo:bar' ignored (unknown type 'foo'); "
            "allowed: 'leak:PATTERN' lines, '#' comments, empty lines",
            f"rcleak: {f}:4: 'leak make_node' ignored (not TYPE:PATTERN); "
            "allowed: 'leak:PATTERN' lines, '#' comments, empty lines",
            f"rcleak: {f}:6: 'leak:' ignored (no pattern after 'leak:'); "
            "allowed: 'leak:PATTERN' lines, '#' comments, empty lines",
            f"rcleak: cannot read suppressions file '{missing}': "
            "No such file or directory; it is ignored"]
    eq(msgs, want, "rcleak's messages on stderr")
    rep = res.exit_report()
    expect_supp_records(rep, ["make_node", "cache_entry_new"])
    eq(supp_used(rep), {"make_buffer": (100, 1, str(f), 5)},
       "JSON suppressions")


@case("supp_two_files_rcleak_run", "supp_leaks")
def _(ctx):
    # Relative names, as a user types them: the text report shows them as
    # given, the JSON absolute (from the directory the program began in).
    supp_file(ctx, "a.supp", "leak:make_node\n")
    supp_file(ctx, "b.supp", "# b\nleak:cache_entry_new\n")
    res = ctx.run(how="run", cwd=ctx.tmp, runner_flags=[
        "--suppressions", "a.supp", "--suppressions=b.supp"])
    res.expect_rc(23)
    rep = res.exit_report()
    expect_supp_records(rep, ["make_buffer"])
    eq(supp_used(rep), {"make_node": (72, 3, str(ctx.tmp / "a.supp"), 1),
                        "cache_entry_new": (32, 2, str(ctx.tmp / "b.supp"),
                                            2)},
       "JSON suppressions")
    need("leak:make_node   (a.supp:1)" in res.err and
         "leak:cache_entry_new   (b.supp:2)" in res.err,
         f"text suppressions used: {res.err[-600:]!r}")


@case("supp_gen_suppressions_round_trip", "supp_leaks")
def _(ctx):
    res = ctx.run(opts={"gen_suppressions": 1})
    res.expect_rc(23)
    gen = [ln for ln in res.err.splitlines() if ln.startswith("leak:")]
    eq(sorted(gen), ["leak:^cache_entry_new$", "leak:^make_buffer$",
                     "leak:^make_node$"], "generated suppressions")
    # The line printed after make_node's record, pasted alone, suppresses
    # that record and nothing else.
    lines = res.err.splitlines()
    at = next(i for i, ln in enumerate(lines) if "in make_node " in ln)
    line = next(ln for ln in lines[at:] if ln.startswith("leak:"))
    f = supp_file(ctx, "gen.supp", line + "\n")
    rep = ctx.run(opts={"suppressions": f}).exit_report()
    expect_supp_records(rep, ["make_buffer", "cache_entry_new"])
    # All of them, pasted as printed: nothing is left, exit status 0.
    f = supp_file(ctx, "gen-all.supp", "\n".join(gen) + "\n")
    res = ctx.run(opts={"suppressions": f})
    res.expect_rc(0)
    expect_supp_records(res.exit_report(), [])


@case("supp_counts_reset_per_report", "supp_leaks")
def _(ctx):
    f = supp_file(ctx, "chk.supp", "leak:make_node\n")
    res = ctx.run(args=["check"], opts={"suppressions": f})
    checks = [r for r in res.reports if r["when"] == "check"]
    eq(len(checks), 1, "check reports")
    for rep in checks + [res.exit_report()]:
        expect_supp_records(rep, ["make_buffer", "cache_entry_new"])
        eq(supp_used(rep), {"make_node": (72, 3, str(f), 1)},
           f"JSON suppressions of the {rep['when']} report")


# ---- reachability ----

# reach MODE: (bytes, blocks) per kind of the program's own records, and
# the threads the report could not stop (see progs/reach.c).
REACH = {
    "list": {"definitely_lost": (32, 1), "indirectly_lost": (128, 4)},
    "cycle": {"definitely_lost": (24, 1), "indirectly_lost": (24, 1)},
    "interior": {"possibly_lost": (100, 1)},
    "xor": {"definitely_lost": (64, 1)},
    "global": {"still_reachable": (144, 3)},
    "shlib": {"still_reachable": (56, 1)},
    "shlib_tls": {"still_reachable": (60, 1)},
    "tls": {"still_reachable": (72, 1)},
    "thread_tls": {"still_reachable": (88, 1)},
    "thread_stack": {"still_reachable": (96, 1)},
    "c11_thread": {"still_reachable": (92, 1)},
    "blocked_thread": {"still_reachable": (104, 1), "not_stopped": 1},
    "exited_thread": {"definitely_lost": (112, 1)},
    "mmap": {"still_reachable": (120, 1)},
    "guard_page": {"still_reachable": (12288, 1)},
    "munmap": {"definitely_lost": (128, 1)},
}


def check_reach(ctx, mode, want):
    args = [mode] + ([str(ctx.exes[1])] if mode.startswith("shlib") else [])
    res = ctx.run(args=args, opts={"show": "all"})
    eq(res.out, "ok\n", "stdout")
    rep = res.exit_report()
    rep.expect_no_errors()
    for kind in LEAK_KINDS[:4]:
        eq(rep.own_total([kind]), want.get(kind, (0, 0)),
           f"own {kind} (bytes, blocks); leaks: {rep.describe_leaks()}")
    eq(rep.get("threads_not_stopped"), want.get("not_stopped", 0),
       "threads_not_stopped")
    lost = any(k in want for k in LOST_KINDS)
    res.expect_rc(23 if lost else 0)


def reach_case(mode, variant):
    progs = ["reach" + variant] + (["libreach_hold"]
                                   if mode.startswith("shlib") else [])

    @case(f"reach_{mode}{variant.replace(':', '_')}", *progs)
    def _(ctx):
        check_reach(ctx, mode, REACH[mode])


for _mode in REACH:
    for _variant in ("", ":O2", ":clang-O2"):
        reach_case(_mode, _variant)


@case("reach_check_while_threads_churn", "reach")
def _(ctx):
    res = ctx.run(args=["churn_check"])
    eq(res.out, "ok\n", "stdout")
    res.expect_rc(0)
    checks = [r for r in res.reports if r["when"] == "check"]
    eq(len(checks), 5, "check reports")
    for rep in checks + [res.exit_report()]:
        rep.expect_no_errors()
        eq(rep.get("threads_not_stopped"), 0, "threads_not_stopped")
        eq(rep.own_total(), (0, 0), "own lost (bytes, blocks)")


def reach_reports(ctx, mode, checks, timeout=120):
    res = ctx.run(args=[mode], opts={"exitcode": 0})
    eq(res.out, "ok\n", "stdout")
    res.expect_rc(0)
    reps = [r for r in res.reports if r["when"] == "check"]
    eq(len(reps), checks, "check reports")
    return reps + [res.exit_report()]


# A thread woken late from one stop was lost by the next (it waited for a
# generation that had passed): back-to-back checks hung the program.
# Reports go to a log, not JSON files, so that the checks follow each other
# closely enough for a late thread to matter.
@case("reach_back_to_back_checks_with_spinning_threads", "reach", timeout=120)
def _(ctx):
    log = ctx.newdir() / "log"
    res = ctx.run(args=["spin_checks"],
                  raw_options=f"log_path={log}:exitcode=0")
    eq(res.out, "ok\n", "stdout")
    res.expect_rc(0)
    text = log.read_text()
    eq(text.count("LEAK SUMMARY"), 101, "reports in the log")
    eq(text.count("could not be stopped"), 0, "'could not be stopped' lines")


# Reports from several threads at once shared one set of roots.
@case("reach_concurrent_checks", "reach", timeout=120)
def _(ctx):
    for rep in reach_reports(ctx, "concurrent_checks", 40):
        rep.expect_no_errors()
        eq(rep.own_total(), (0, 0), "own lost (bytes, blocks)")
        eq(rep.own_total(["still_reachable"]), (32000, 1000),
           "own still reachable (bytes, blocks)")


# The static TLS scan of a thread once ran past its stack into rcleak's
# own records, which hold every block's address.
@case("reach_leaks_with_a_thread_alive", "reach")
def _(ctx):
    for rep in reach_reports(ctx, "leaks_with_thread", 1):
        eq(rep.own_total(["definitely_lost"]), (48000, 2000),
           "own definitely lost (bytes, blocks)")


# The next allocator's own mmap()ed arenas hold every block: they were
# taken for the program's mappings, and made every leak still reachable.
@case("reach_under_a_replacement_allocator", "reach", "libbump_alloc")
def _(ctx):
    env = ctx.base_env()
    env["LD_PRELOAD"] = str(ctx.exes[1])
    res = ctx.run(args=["list"], env=env, how="run")
    eq(res.out, "ok\n", "stdout")
    rep = res.exit_report()
    eq(rep.own_total(["definitely_lost"]), (32, 1), "own definitely lost")
    eq(rep.own_total(["indirectly_lost"]), (128, 4), "own indirectly lost")


@case("reach_blocked_thread_text_says_not_stopped", "reach")
def _(ctx):
    res = ctx.run(args=["blocked_thread"])
    need("1 thread could not be stopped" in res.err,
         f"no 'could not be stopped' line: {res.tail()}")


@case("reach_show_default_hides_reachable", "reach")
def _(ctx):
    res = ctx.run(args=["global"])
    need("still reachable in loss record" not in res.err,
         "a still reachable record was listed by default")
    need(re.search(r"still reachable: 144 bytes in 3 blocks", res.err),
         f"summary line missing: {res.tail()}")
    res = ctx.run(args=["global"], opts={"show": "reachable"})
    need("still reachable in loss record" in res.err,
         "show=reachable did not list the record")


@case("reach_fail_on", "reach")
def _(ctx):
    # possibly lost alone does not fail by default; fail_on=possible does
    ctx.run(args=["interior"]).expect_rc(0)
    ctx.run(args=["interior"], opts={"fail_on": "possible"}).expect_rc(23)
    ctx.run(args=["list"], opts={"fail_on": "none"}).expect_rc(0)
    ctx.run(args=["global"], opts={"fail_on": "reachable"}).expect_rc(23)


@case("reach_bad_kinds_option", "exit_status")
def _(ctx):
    check_bad_option(ctx, "show=definite,sometimes", "show", ["reachable"])
    check_bad_option(ctx, "fail_on=", "fail_on", ["none"])
# ---- file:line and inlined frames ----

def src_line(path, text):
    """The line number of the one line of path that contains text."""
    hits = [i + 1 for i, ln in enumerate(Path(path).read_text().splitlines())
            if text in ln]
    if len(hits) != 1:
        raise Fail(f"{len(hits)} lines of {path} contain {text!r}, want 1")
    return hits[0]


def expect_at(stack, i, name, src, text, inlined=False):
    """stack[i] is function name at the line of src that holds text, in an
    absolute file path, inlined or not."""
    expect_frame(stack, i, name, "stack")
    fr = stack[i]
    want = (src.name, src_line(src, text))
    eq((base(fr["file"]), fr["line"]), want, f"stack[{i}] ({name}) file:line")
    need(fr["file"].startswith("/"), f"stack[{i}] file {fr['file']!r} is "
         "not absolute")
    eq(fr.get("inlined", False), inlined, f"stack[{i}] ({name}) inlined")


def check_file_line(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    st = expect_record(res.exit_report(), "make_leak", 21, 1, "malloc")["stack"]
    src = PROGS / "file_line.c"
    expect_at(st, 0, "make_leak", src, "/* @alloc */")
    expect_at(st, 1, "main", src, "/* @call */")
    need(f"file_line.c:{src_line(src, '/* @alloc */')} (" in res.err,
         f"text report lacks make_leak's file:line: {res.tail()}")


@case("file_line", "file_line")
def _(ctx):
    check_file_line(ctx)


@case("file_line_O2", "file_line:O2")
def _(ctx):
    check_file_line(ctx)


@case("file_line_clang", "file_line:clang")
def _(ctx):
    check_file_line(ctx)


@case("file_line_clang_O2", "file_line:clang-O2")
def _(ctx):
    check_file_line(ctx)


def check_inline_leak(ctx, exe=None):
    res = ctx.run(exe=exe, opts={"exitcode": 0})
    res.expect_rc(0)
    st = expect_record(res.exit_report(), "fill", 33, 1, "malloc")["stack"]
    src = PROGS / "inline_leak.c"
    expect_at(st, 0, "fill", src, "/* @alloc */", inlined=True)
    expect_at(st, 1, "wrap", src, "/* @wrap */", inlined=True)
    expect_at(st, 2, "holder", src, "/* @holder */")
    expect_at(st, 3, "main", src, "/* @main */")
    for key in ("ip", "module", "offset"):
        eq({fr[key] for fr in st[:3]}, {st[0][key]},
           f"{key} of the inlined frames and their caller")
    need(f"inline_leak.c:{src_line(src, '/* @alloc */')} (" in res.err and
         ", inlined)" in res.err,
         f"text report lacks the inlined frame: {res.tail()}")


@case("inline_leak", "inline_leak")
def _(ctx):
    check_inline_leak(ctx)


@case("inline_leak_O2", "inline_leak:O2")
def _(ctx):
    check_inline_leak(ctx)


@case("inline_leak_clang_O2", "inline_leak:clang-O2")
def _(ctx):
    check_inline_leak(ctx)


@case("inline_leak_split_dwarf", "inline_leak:O2")
def _(ctx):
    """-gsplit-dwarf: the functions and inlined calls are in a .dwo file."""
    cc, _, flags, _ = VARIANTS["O2"]
    exe = ctx.tmp / "inline_leak"
    subprocess.run([cc, "-gsplit-dwarf"] + flags + [
        "-I", str(INCLUDE), "-I", str(PROGS), "-o", str(exe),
        str(PROGS / "inline_leak.c")], cwd=ctx.tmp, check=True)
    need(list(ctx.tmp.glob("*.dwo")), "no .dwo file made")
    check_inline_leak(ctx, exe)


@case("inline_leak_cxx_O2", "inline_leak_cxx:O2")
def _(ctx):
    res = ctx.run(opts={"exitcode": 0})
    res.expect_rc(0)
    make = "shapes::Box<shapes::Widget>::make()"
    st = expect_record(res.exit_report(), make, 20, 1)["stack"]
    src = PROGS / "inline_leak_cxx.cpp"
    expect_at(st, 0, make, src, "/* @alloc */", inlined=True)
    expect_at(st, 1, "build()", src, "/* @call */")


@case("file_line_of_a_dlclosed_module", "dlopen_leak", "libdso_leak")
def _(ctx):
    res = ctx.run(args=[str(ctx.exes[1])], opts={"exitcode": 0})
    res.expect_rc(0)
    st = expect_record(res.exit_report(), "dso_make", 45, 1, "malloc")["stack"]
    expect_at(st, 0, "dso_make", PROGS / "libdso_leak.c", "= malloc(45)")
    expect_at(st, 1, "call_dso", PROGS / "dlopen_leak.c", "fn();")


@case("file_line_from_gnu_debuglink", "split_debug")
def _(ctx):
    exe = stripped_with_debuglink(ctx)
    res = ctx.run(exe=exe, opts={"exitcode": 0})
    st = expect_record(res.exit_report(), "hidden_alloc", 17, 1)["stack"]
    expect_at(st, 0, "hidden_alloc", PROGS / "split_debug.c", "= malloc(n)")


# ---------------------------------------------------------------- main

def needs_lib(c):
    return c.name not in ("programs_native_selfcheck", "rcleak_run_help")


def run_case(c, exes, args, tmproot):
    tmp = Path(tempfile.mkdtemp(prefix=c.name + ".", dir=tmproot))
    ctx = Ctx(c, exes, tmp, args.verbose)
    t0 = time.time()
    try:
        if needs_lib(c) and not LIB.exists():
            raise Fail(f"{LIB.relative_to(ROOT)} not built (run make)")
        c.fn(ctx)
        line, ok = f"PASS {c.name}", True
    except Skip as e:
        line, ok = f"PASS {c.name} (skipped: {e})", True
    except Fail as e:
        line, ok = f"FAIL {c.name}: {e}", False
    except Exception as e:  # a bug in the check itself, or a wild report
        line, ok = f"FAIL {c.name}: {type(e).__name__}: {e}", False
    if args.verbose:
        line += f"  [{time.time() - t0:.1f}s]"
    if ok and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return line, ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("patterns", nargs="*", help="case name substrings/globs")
    ap.add_argument("-j", type=int, default=1, help="cases run at once")
    ap.add_argument("--keep", action="store_true",
                    help="keep every case's temporary directory")
    ap.add_argument("--list", action="store_true", help="list case names")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    # A shell runs a background job with SIGINT ignored (no job control),
    # and an ignored signal stays so across exec: rcleak-run could then
    # not pass SIGINT on, and the cases that send it waited forever.
    # Handled here, it is the default again in every program we start.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def selected(c):
        if not args.patterns:
            return True
        return any((fnmatch.fnmatchcase(c.name, p) if any(ch in p for ch in
                    "*?[") else p in c.name) for p in args.patterns)

    cases = [c for c in CASES if selected(c)]
    if args.list:
        for c in cases:
            print(c.name)
        return 0
    if not cases:
        print("no case matches", file=sys.stderr)
        print("0 passed, 0 failed")
        return 1

    BUILD.mkdir(parents=True, exist_ok=True)
    wanted = sorted({p for c in cases for p in c.progs})
    built = {}

    def build(spec):
        prog, _, variant = spec.partition(":")
        if variant == "static" and not Path(
                "/usr/lib/x86_64-linux-gnu/libc.a").exists() and \
                not Path("/usr/lib64/libc.a").exists():
            return spec, (None, "static libc (libc6-dev's libc.a) missing")
        return spec, compile_prog(prog, variant)

    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) \
            as ex:
        for spec, result in ex.map(build, wanted):
            built[spec] = result

    tmproot = Path(tempfile.mkdtemp(prefix="rcleak-e2e."))
    passed = failed = 0

    def one(c):
        exes = []
        for spec in c.progs:
            path, why = built[spec]
            if path is None:
                if why.startswith("compiler ") or (
                        spec.endswith(":static") and "missing" in why):
                    return f"PASS {c.name} (skipped: {why})", True
                return f"FAIL {c.name}: build {spec}: {why}", False
            exes.append(path)
        return run_case(c, exes, args, tmproot)

    with concurrent.futures.ThreadPoolExecutor(max(1, args.j)) as ex:
        for line, ok in ex.map(one, cases):
            print(line, flush=True)
            passed += ok
            failed += not ok
    if failed and not args.keep:
        print(f"(temporary files of failed cases kept in {tmproot})",
              file=sys.stderr)
    elif not args.keep:
        shutil.rmtree(tmproot, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
