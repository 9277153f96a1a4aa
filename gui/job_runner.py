"""Run one worker command and record how it ended (``python -m gui.job_runner EXIT_FILE -- ARGV...``).

The training page starts this small wrapper detached from the window. It runs ``ARGV`` (output inherited, so
it lands in the job's log file) and writes ``{"code": N, "finished": TIME}`` to ``EXIT_FILE`` when the worker
ends, so a window opened later can still tell a finished run from a crashed one. No Qt, no TensorFlow here.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m gui.job_runner EXIT_FILE -- PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    exit_file, command = Path(argv[0]), argv[2:]
    process = subprocess.Popen(command)

    def forward(signum: int, _frame: object) -> None:  # stopping the wrapper stops the worker
        process.send_signal(signum)

    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), forward)
    code = process.wait()
    tmp = exit_file.with_name(exit_file.name + ".tmp")
    tmp.write_text(json.dumps({"code": code, "finished": time.time()}), encoding="utf-8")
    tmp.replace(exit_file)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
