#!/usr/bin/env bash
# Real programs natively and under rcleak (see run.py for what is checked).
# Same line protocol as every suite: PASS/FAIL lines, then "N passed, N failed".
exec python3 "$(dirname "$0")/run.py" "$@"
