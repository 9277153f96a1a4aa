"""``cellwright pretrain``: learn an encoder from unlabelled images by masked-image reconstruction.

Random squares of each image are hidden and a small autoencoder (no skip connections) learns to paint them
back from the rest, so its encoder learns what cells look like without a single label. Why this objective:
it trains well on a CPU in minutes with small batches, needs no negatives (contrastive learning needs large
batches and long schedules to work) and no choice of augmentations that could destroy what the classes
differ by (colour, size). Only the encoder is saved (a ``.keras`` file any recipe can start from with
``backbone: {from: FILE}``), with a ``FILE.pretrain.json`` record that the run report's Methods cites. Before
saving, the encoder's batch-norm statistics are measured again on the clean images
(:mod:`builder.pretrain.batchnorm`): training only showed it masked ones.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from builder.events import EventSink, make_event
from builder.pretrain.settings import PretrainSettings

#: Objective name written in the record and the report.
OBJECTIVE = "masked-image reconstruction"


@dataclass
class PretrainOutcome:
    """The saved encoder, its record and the last epoch's reconstruction loss."""

    encoder: Path
    record: Path
    loss: float
    n_images: int


def record_path(encoder: Path | str) -> Path:
    """The record next to an encoder file: ``enc.keras`` -> ``enc.pretrain.json``."""
    encoder = Path(encoder)
    return encoder.with_name(encoder.stem + ".pretrain.json")


def read_record(encoder: Path | str) -> dict[str, Any] | None:
    """The pre-training record of an encoder file, or None when it has none (e.g. a colleague's bundle)."""
    path = record_path(encoder)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _emit(events: EventSink | None, name: str, /, **payload: Any) -> None:
    if events is not None:
        events(make_event(name, **payload))


def pretrain(settings: PretrainSettings, *, recipe: Any = None, base_dir: Path | None = None,
             events: EventSink | None = None, time_budget_s: float | None = None) -> PretrainOutcome:
    """Pre-train an encoder on ``settings.images`` and save it to ``settings.out``.

    Parameters
    ----------
    settings : PretrainSettings
    recipe : Recipe, optional
        The recipe the encoder is for: its normalisation, channels and (classification) image size are used.
    base_dir : Path, optional
        Folder relative paths in ``settings`` start from (the recipe's folder, else the current one).
    events : callable, optional
        Receives ``start``, ``epoch``, ``artifact`` and ``done`` events (JSON-able dicts).
    time_budget_s : float, optional
        Stop after the epoch that reaches this many seconds (``pretrain.time_budget`` of a recipe).
    """
    import keras

    from builder.pretrain.autoencoder import build_autoencoder, build_encoder, masked_mse
    from builder.pretrain.images import find_images, load_unlabelled
    from builder.pretrain.masking import apply_masks, patch_masks, random_flips

    base = Path(base_dir) if base_dir is not None else Path.cwd()
    folder = Path(settings.images).expanduser()
    folder = folder if folder.is_absolute() else base / folder
    out = Path(settings.out).expanduser()
    out = out if out.is_absolute() else base / out
    if out.suffix != ".keras":
        out = out.with_suffix(".keras")
    fit = settings.fit
    if fit == "auto":
        from builder.tasks import get_task

        fit = "resize" if recipe is not None and get_task(recipe.task).whole_image_input else "crop"
    rng = np.random.default_rng(settings.seed)
    paths = find_images(folder)
    images = load_unlabelled(paths, size=settings.size, resize=fit == "resize",
                             pre=recipe.preprocess if recipe is not None else None,
                             channels=recipe.data.channels if recipe is not None else None,
                             crops_per_image=settings.crops_per_image, rng=rng)
    channels = int(images.shape[-1])
    keras.utils.set_random_seed(settings.seed)
    encoder = build_encoder(channels, depth=settings.depth, base_filters=settings.base_filters)
    model = build_autoencoder(encoder, channels, depth=settings.depth, base_filters=settings.base_filters)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss=masked_mse())
    steps = -(-len(images) // settings.batch_size)
    _emit(events, "start", stage="pretrain", images=len(paths), inputs=len(images), epochs=settings.epochs,
          steps_per_epoch=steps, objective=OBJECTIVE, parameters=int(encoder.count_params()))
    started, loss, done = time.monotonic(), float("nan"), 0
    for epoch in range(settings.epochs):
        if time_budget_s is not None and epoch and time.monotonic() - started >= time_budget_s:
            _emit(events, "log", message=f"Pre-training stopped after {epoch} epoch(s): the time budget "
                  f"({time_budget_s:g} s) is used up.")
            break
        done = epoch + 1
        clean = random_flips(images, rng)
        masks = patch_masks(len(clean), clean.shape[1:3], patch=settings.mask_patch, ratio=settings.mask_ratio,
                            rng=rng)
        target = np.concatenate([clean, masks], axis=-1)
        history = model.fit(apply_masks(clean, masks), target, batch_size=settings.batch_size, epochs=1,
                            shuffle=True, verbose=0)
        loss = float(history.history["loss"][-1])
        _emit(events, "epoch", stage="pretrain", epoch=epoch + 1, epochs=settings.epochs, loss=loss,
              seconds=round(time.monotonic() - started, 1))
    from builder.pretrain.batchnorm import recalibrate_batchnorm

    recalibrated = recalibrate_batchnorm(encoder, images, batch_size=settings.batch_size, rng=rng)
    out.parent.mkdir(parents=True, exist_ok=True)
    encoder.save(out)
    record = {
        "objective": OBJECTIVE, "images_folder": str(folder), "n_images": len(paths), "n_inputs": len(images),
        "input_size": settings.size, "fit": fit, "channels": channels, "final_loss": loss,
        "settings": settings.model_dump(), "seconds": round(time.monotonic() - started, 1),
        "epochs_completed": done, "image_files": _fingerprint(paths),
        "batchnorm_recalibrated_on_clean_images": len(recalibrated),
    }
    record_file = record_path(out)
    record_file.write_text(json.dumps(record, indent=2), encoding="utf-8")
    _emit(events, "artifact", kind="encoder", path=str(out), record=str(record_file))
    _emit(events, "done", stage="pretrain", path=str(out), loss=loss, images=len(paths))
    return PretrainOutcome(encoder=out, record=record_file, loss=loss, n_images=len(paths))


def _fingerprint(paths: list[Path]) -> dict[str, Any]:
    """How many images there were and when the newest changed: a later change makes the encoder outdated."""
    return {"count": len(paths), "newest_mtime": max((p.stat().st_mtime for p in paths), default=0.0)}


def encoder_outdated(section: Any, recipe: Any) -> str | None:
    """Why the encoder of a recipe's ``pretrain:`` section must be (re)made, or None when it is up to date.

    Outdated: no file, no record, other settings than the recipe's, or images added, removed or changed.
    """
    from builder.pretrain.images import find_images
    from builder.pretrain.paths import encoder_path

    out = encoder_path(section.out, recipe.base_dir)
    record = read_record(out) if out.is_file() else None
    if record is None:
        return f"{out.name} does not exist yet" if not out.is_file() else f"{out.name} has no pre-training record"
    made = record.get("settings") or {}
    changed = sorted(k for k, v in section.model_dump().items()
                     if k in PretrainSettings.model_fields and k != "out" and made.get(k) != v)
    if changed:
        return f"the pretrain: settings changed ({', '.join(changed)})"
    folder = Path(section.images).expanduser()
    folder = folder if folder.is_absolute() else Path(recipe.base_dir) / folder
    if record.get("image_files") != _fingerprint(find_images(folder)):
        return f"the images in {folder} changed since {out.name} was made"
    return None


def ensure_encoder(recipe: Any, events: EventSink | None = None) -> Path | None:
    """Run the recipe's ``pretrain:`` section when its encoder file is missing or outdated; returns the file
    (None when the recipe has no ``pretrain:``)."""
    from builder.pretrain.paths import encoder_path

    section = recipe.pretrain
    if section is None:
        return None
    out = encoder_path(section.out, recipe.base_dir)
    why = encoder_outdated(section, recipe)
    if why is None:
        _emit(events, "log", message=f"Pre-trained encoder {out.name} is up to date; training starts from it.")
        return out
    _emit(events, "log", message=f"Pre-training the encoder first ({why}).")
    settings = PretrainSettings(**{k: v for k, v in section.model_dump().items()
                                   if k in PretrainSettings.model_fields})
    pretrain(settings.model_copy(update={"out": str(out)}), recipe=recipe, base_dir=recipe.base_dir, events=events,
             time_budget_s=section.budget_seconds())
    return out
