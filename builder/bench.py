"""Speed measurements behind ``cellwright bench``."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VALIDATE_TARGET_S = 1.5


def time_validate(repeat: int = 5) -> dict[str, Any]:
    """Time ``cellwright validate`` on a shipped example in fresh processes; also report whether TF got imported."""
    import recipes

    example = sorted(recipes.EXAMPLES.glob("*.yaml"))[0]
    code = (
        f"import sys; from builder.cli.main import main; code = main(['validate', '--json', {str(example)!r}]); "
        "print('TF=' + str('tensorflow' in sys.modules))"
    )
    times, tf_imported = [], False
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        tf_imported |= "TF=True" in result.stdout
        if result.returncode not in (0, 1):
            raise RuntimeError(result.stderr[-2000:])
        json.loads(result.stdout.rsplit("TF=", 1)[0])
    median = statistics.median(times)
    return {"command": f"cellwright validate {example.name}", "repeat": len(times), "median_s": round(median, 3),
            "min_s": round(min(times), 3), "target_s": VALIDATE_TARGET_S,
            "ok": median < VALIDATE_TARGET_S and not tf_imported, "tensorflow_imported": tf_imported}


def benchmark_scripts() -> list[Path]:
    """The benchmark scripts of a source checkout (``tests/benchmarks/*.py``), if there is one."""
    folder = Path(__file__).resolve().parents[1] / "tests" / "benchmarks"
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_")) if folder.is_dir() else []
