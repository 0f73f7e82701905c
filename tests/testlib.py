"""Shared by tests/e2e/check.py and tests/real/run.py (standard library
only)."""

import os
import signal
import subprocess


def communicate_or_kill(argv, timeout, **popen_args):
    """Runs argv in a session of its own; returns (pid, returncode,
    stdout, stderr), the outputs as bytes, or None when it outlived
    timeout seconds, in which case its whole process group was killed."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True,
                         **popen_args)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.communicate()
        return None
    return p.pid, p.returncode, out, err
