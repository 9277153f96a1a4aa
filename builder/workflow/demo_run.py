"""The demo run behind ``cellwright demo`` and the app's "Try it on demo data": the nuclei example on demo data.

:func:`write_demo_recipe` writes the example recipe (optionally shrunk to a seconds-long check) into a folder of the
user's own, so the run never writes next to the installed package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXAMPLE = "nuclei_instances.yaml"


def demo_runs_dir() -> Path:
    """Where demo runs go: ``$CELLWRIGHT_HOME/demo-runs`` (default ``~/.cellwright/demo-runs``)."""
    from builder.data.layouts import demo_home

    return demo_home().parent / "demo-runs"


def example_path() -> Path:
    """The shipped example recipe (inside the installed ``recipes`` package)."""
    import recipes

    return Path(recipes.__file__).parent / "examples" / EXAMPLE


def demo_recipe(*, tiny: bool, epochs: int | None) -> dict[str, Any]:
    """The example recipe as a dictionary, shrunk by ``tiny`` and with ``epochs`` when given."""
    import yaml

    from builder.data.layouts import demo_home

    recipe = yaml.safe_load(example_path().read_text(encoding="utf-8"))
    recipe["name"] = "demo-" + recipe["name"]
    if tiny:
        from builder.data.demo import make_demo

        root = demo_home() / "nuclei-tiny"
        if not root.is_dir():
            make_demo("nuclei", root, n_images=8, size=48, seed=0)
        recipe["data"] = {"root": str(root), "layout": "folders", "masks": "masks",
                          "split": {"mode": "random", "validation": 0.25, "test": 0.25, "seed": 0}}
        recipe["preprocess"] = {**recipe.get("preprocess", {}), "patch": {"size": 32, "per_image": 2},
                                "tile": {"size": 32, "overlap": 8}}
        recipe["model"] = {"template": "unet", "params": {"depth": 2, "base_filters": 4}}
        recipe["train"] = {**{k: v for k, v in recipe.get("train", {}).items() if k != "time_budget"},
                           "epochs": 1, "batch_size": 4, "steps_per_epoch": 2, "early_stopping": {"enabled": False}}
        recipe["export"] = {"formats": []}
    if epochs is not None:
        recipe["train"]["epochs"] = epochs
        recipe["train"].pop("time_budget", None)  # the epochs asked for, not fewer
    return recipe


def write_demo_recipe(folder: Path, *, tiny: bool = False, epochs: int | None = None) -> Path:
    """Write the demo recipe into ``folder`` (created if needed) and return its path."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"demo-nuclei{'-tiny' if tiny else ''}.yaml"
    path.write_text(yaml.safe_dump(demo_recipe(tiny=tiny, epochs=epochs), sort_keys=False), encoding="utf-8")
    return path
