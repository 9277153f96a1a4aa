"""A ready-to-paste Methods paragraph with the citations of the methods a run used."""

from __future__ import annotations

from typing import Any

from builder.report.content import Section, fmt, resolved_loss, split_counts, task_of
from builder.report.run_data import RunData
from builder.tasks import Task

#: key -> (in-text citation, full reference, link or None)
CITATIONS: dict[str, tuple[str, str, str | None]] = {
    "unet": ("Ronneberger et al., 2015", "Ronneberger O, Fischer P, Brox T. U-Net: Convolutional networks for "
             "biomedical image segmentation. MICCAI 2015, LNCS 9351:234-241.",
             "https://doi.org/10.1007/978-3-319-24574-4_28"),
    "fpn": ("Lin et al., 2017a", "Lin T-Y, Dollar P, Girshick R, He K, Hariharan B, Belongie S. Feature pyramid "
            "networks for object detection. CVPR 2017:936-944.", "https://doi.org/10.1109/CVPR.2017.106"),
    "care": ("Weigert et al., 2018", "Weigert M, Schmidt U, Boothe T, et al. Content-aware image restoration: "
             "pushing the limits of fluorescence microscopy. Nature Methods 15:1090-1097 (2018).",
             "https://doi.org/10.1038/s41592-018-0216-7"),
    "n2v": ("Krull et al., 2019", "Krull A, Buchholz T-O, Jug F. Noise2Void - learning denoising from single "
            "noisy images. CVPR 2019:2129-2137.", "https://doi.org/10.1109/CVPR.2019.00223"),
    "mobilenet_v2": ("Sandler et al., 2018", "Sandler M, Howard A, Zhu M, Zhmoginov A, Chen L-C. MobileNetV2: "
                     "inverted residuals and linear bottlenecks. CVPR 2018:4510-4520.",
                     "https://doi.org/10.1109/CVPR.2018.00474"),
    "mobilenet_v3": ("Howard et al., 2019", "Howard A, Sandler M, Chu G, et al. Searching for MobileNetV3. "
                     "ICCV 2019:1314-1324.", "https://doi.org/10.1109/ICCV.2019.00140"),
    "resnet": ("He et al., 2016a", "He K, Zhang X, Ren S, Sun J. Deep residual learning for image recognition. "
               "CVPR 2016:770-778.", "https://doi.org/10.1109/CVPR.2016.90"),
    "resnet_v2": ("He et al., 2016b", "He K, Zhang X, Ren S, Sun J. Identity mappings in deep residual networks. "
                  "ECCV 2016, LNCS 9908:630-645.", "https://doi.org/10.1007/978-3-319-46493-0_38"),
    "densenet": ("Huang et al., 2017", "Huang G, Liu Z, van der Maaten L, Weinberger KQ. Densely connected "
                 "convolutional networks. CVPR 2017:2261-2269.", "https://doi.org/10.1109/CVPR.2017.243"),
    "efficientnet": ("Tan and Le, 2019", "Tan M, Le QV. EfficientNet: rethinking model scaling for convolutional "
                     "neural networks. ICML 2019, PMLR 97:6105-6114.", "https://arxiv.org/abs/1905.11946"),
    "efficientnet_v2": ("Tan and Le, 2021", "Tan M, Le QV. EfficientNetV2: smaller models and faster training. "
                        "ICML 2021, PMLR 139:10096-10106.", "https://arxiv.org/abs/2104.00298"),
    "convnext": ("Liu et al., 2022", "Liu Z, Mao H, Wu C-Y, Feichtenhofer C, Darrell T, Xie S. A ConvNet for the "
                 "2020s. CVPR 2022:11976-11986.", "https://doi.org/10.1109/CVPR52688.2022.01167"),
    "vgg": ("Simonyan and Zisserman, 2015", "Simonyan K, Zisserman A. Very deep convolutional networks for "
            "large-scale image recognition. ICLR 2015.", "https://arxiv.org/abs/1409.1556"),
    "imagenet": ("Deng et al., 2009", "Deng J, Dong W, Socher R, Li L-J, Li K, Fei-Fei L. ImageNet: a large-scale "
                 "hierarchical image database. CVPR 2009:248-255.", "https://doi.org/10.1109/CVPR.2009.5206848"),
    "dice": ("Milletari et al., 2016", "Milletari F, Navab N, Ahmadi S-A. V-Net: fully convolutional neural "
             "networks for volumetric medical image segmentation. 3DV 2016:565-571.",
             "https://doi.org/10.1109/3DV.2016.79"),
    "focal": ("Lin et al., 2017b", "Lin T-Y, Goyal P, Girshick R, He K, Dollar P. Focal loss for dense object "
              "detection. ICCV 2017:2999-3007.", "https://doi.org/10.1109/ICCV.2017.324"),
    "ssim": ("Wang et al., 2004", "Wang Z, Bovik AC, Sheikh HR, Simoncelli EP. Image quality assessment: from "
             "error visibility to structural similarity. IEEE Trans Image Process 13(4):600-612 (2004).",
             "https://doi.org/10.1109/TIP.2003.819861"),
    "watershed": ("Beucher and Meyer, 1993", "Beucher S, Meyer F. The morphological approach to segmentation: the "
                  "watershed transformation. In: Dougherty ER (ed.), Mathematical Morphology in Image Processing, "
                  "Marcel Dekker, 1993:433-481.", None),
    "stardist": ("Schmidt et al., 2018", "Schmidt U, Weigert M, Broaddus C, Myers G. Cell detection with "
                 "star-convex polygons. MICCAI 2018, LNCS 11071:265-273.",
                 "https://doi.org/10.1007/978-3-030-00934-2_30"),
    "adam": ("Kingma and Ba, 2015", "Kingma DP, Ba J. Adam: a method for stochastic optimization. ICLR 2015.",
             "https://arxiv.org/abs/1412.6980"),
    "adamw": ("Loshchilov and Hutter, 2019", "Loshchilov I, Hutter F. Decoupled weight decay regularization. "
              "ICLR 2019.", "https://arxiv.org/abs/1711.05101"),
    "cosine": ("Loshchilov and Hutter, 2017", "Loshchilov I, Hutter F. SGDR: stochastic gradient descent with "
               "warm restarts. ICLR 2017.", "https://arxiv.org/abs/1608.03983"),
    "scikit_image": ("van der Walt et al., 2014", "van der Walt S, Schonberger JL, Nunez-Iglesias J, et al. "
                     "scikit-image: image processing in Python. PeerJ 2:e453 (2014).",
                     "https://doi.org/10.7717/peerj.453"),
    "keras": ("Chollet et al., 2015", "Chollet F, et al. Keras. 2015.", "https://keras.io"),
    "tensorflow": ("Abadi et al., 2016", "Abadi M, Barham P, Chen J, et al. TensorFlow: a system for large-scale "
                   "machine learning. OSDI 2016:265-283.", "https://arxiv.org/abs/1605.08695"),
    "cellwright": ("Cellwright developers", "Cellwright developers. Cellwright: build, train, evaluate and share "
                   "deep-learning models for cell images (software).", None),
}

_BACKBONE_KEYS = (("mobilenet_v3", "mobilenet_v3"), ("mobilenet_v2", "mobilenet_v2"), ("resnet50_v2", "resnet_v2"),
                  ("resnet", "resnet"), ("efficientnet_v2", "efficientnet_v2"), ("efficientnet", "efficientnet"),
                  ("densenet", "densenet"), ("convnext", "convnext"), ("vgg", "vgg"))
_LOSS_WORDS = {"cross_entropy": "cross-entropy", "dice": "Dice", "focal": "focal", "mae": "mean absolute error",
               "mse": "mean squared error", "ssim": "SSIM",
               "star": "star-convex (probability cross-entropy plus weighted ray-distance error)"}


def backbone_citation(name: str) -> str | None:
    """Citation key of a backbone's paper (``mobilenet_v2`` -> ``"mobilenet_v2"``), or ``None``."""
    return next((key for prefix, key in _BACKBONE_KEYS if name.lower().startswith(prefix)), None)


class _Cite:
    def __init__(self) -> None:
        self.used: list[str] = []

    def __call__(self, key: str) -> str:
        if key not in self.used:
            self.used.append(key)
        return f"({CITATIONS[key][0]})"


def methods_text(run: RunData) -> tuple[str, list[str]]:
    """The Methods paragraph and the citation keys it uses, in order of first use."""
    cite = _Cite()
    task = task_of(run)
    template = run.get("model.template") or "custom"
    params: dict[str, Any] = run.get("model.params", {}) or {}
    backbone = params.get("backbone") or (run.model_summary or {}).get("backbone") or {}
    parts = []
    if template == "unet":
        arch = f"a U-Net {cite('unet')} of depth {params.get('depth', '?')}"
        if params.get("base_filters"):
            arch += f" with {params['base_filters']} filters in the first level"
    elif template == "fpn":
        arch = f"a feature pyramid network {cite('fpn')}"
    elif template == "restoration":
        arch = f"a CARE-style restoration U-Net {cite('care')}, {cite('unet')}"
    elif template == "classifier":
        arch = "a convolutional classifier"
    else:
        arch = f"a custom network ({template})"
    if isinstance(backbone, dict) and backbone.get("name"):
        key = backbone_citation(str(backbone["name"]))
        arch += f" whose encoder is {backbone['name']}{' ' + cite(key) if key else ''}"
        if str(backbone.get("weights", "")).lower() == "imagenet":
            arch += f" initialised with ImageNet weights {cite('imagenet')}"
    from builder.report.unlabelled import encoder_phrase, init_from_name, pseudo_label_sentence

    shared = encoder_phrase(run)
    if shared:
        arch += f" {shared}"
    total = (run.model_summary or {}).get("total_params")
    parts.append(f"We trained {arch}{f' ({fmt(total)} parameters)' if total else ''} for "
                 f"{_task_phrase(task, run)}.")
    grid = int(params.get("grid") or 1) if template == "unet" else 1
    if grid > 1:
        parts.append(f"After one block of convolutions at full resolution, the U-Net ran at 1/{grid} of the image "
                     f"resolution and its output was repeated {grid}x{grid} to full size, as in StarDist "
                     f"{cite('stardist')}.")
    if init_from_name(run):
        parts.append(f"The network was fine-tuned from {init_from_name(run)}: its trained weights were the starting "
                     "point.")
    counts = split_counts(run)
    if counts:
        parts.append(f"{_split_how(run)} into {counts.get('train', '?')} training, "
                     f"{counts.get('validation', '?')} validation and {counts.get('test', '?')} test images.")
    norm = run.get("preprocess.normalize.method", "percentile")
    if norm == "percentile":
        norm = (f"percentile-normalised ({fmt(run.get('preprocess.normalize.low', 1.0))}% to "
                f"{fmt(run.get('preprocess.normalize.high', 99.8))}% of their intensities mapped to 0-1)")
    else:
        norm = f"normalised ({norm})"
    patch = run.get("preprocess.patch.size")
    size = task.methods_preprocess(run) or (f"cut into {patch} x {patch} px patches" if patch else "")
    resample = run.get("preprocess.resample_to")
    if resample:
        size = f"resampled to {fmt(resample)} µm per pixel" + (f" and {size}" if size else "")
    scale = object_scale_phrase(run)
    if scale:
        size = scale + (f" and {size}" if size else "")
    from builder.report.sections import _augment_text

    augment = _augment_text(run.get("augment", {}) or {})
    augmented = "not augmented" if augment == "none" else f"augmented with {augment}"
    parts.append(f"Images were {norm}{', ' + size if size else ''}, and {augmented}.")
    parts.append(_training_sentence(run, cite))
    pseudo = pseudo_label_sentence(run)
    if pseudo:
        parts.append(pseudo)
    extra = task.methods_extra(run, cite)
    if extra:
        parts.append(extra)
    parts.append(_evaluation_sentence(run, cite))
    env = run.environment or {}
    parts.append(f"All steps used Cellwright {env.get('cellwright') or ''} {cite('cellwright')}".replace("  ", " ") +
                 f" with Keras {env.get('keras', '3')} {cite('keras')} on TensorFlow {env.get('tensorflow', '')} "
                 f"{cite('tensorflow')}; the full recipe and the data split are available with this model.")
    return " ".join(parts), cite.used


def object_scale_phrase(run: RunData) -> str | None:
    """How images were rescaled by object size (``preprocess.object_diameter``), in words; None without it."""
    diameter = run.get("preprocess.object_diameter")
    if diameter is None:
        return None
    record = (run.normalization or {}).get("scale") if isinstance(run.normalization, dict) else None
    target = run.get("preprocess.target_diameter", 30.0)
    if isinstance(record, dict) and record.get("object_diameter"):
        measured = diameter == "auto"
        diameter, target = record["object_diameter"], record.get("target_diameter", target)
        from builder.data.object_scale import WHOLE_OBJECTS

        how = ""
        if measured:
            how = (" (the median diameter of the objects in the training masks that do not touch the image edge)"
                   if record.get("measured_from") == WHOLE_OBJECTS else
                   " (the median object diameter in the training masks)")
    elif diameter == "auto":
        return "rescaled so that objects were about " + f"{fmt(target)} px across (diameter measured from the masks)"
    else:
        how = ""
    return (f"rescaled by {fmt(float(target) / float(diameter))} so that objects {fmt(diameter)} px across{how} "
            f"became {fmt(target)} px across")


def _split_how(run: RunData) -> str:
    """How the images were divided: fixed folders, a manifest's split column, or a seeded random split."""
    seed = run.get("data.split.seed", "?")
    if run.get("data.split.mode") == "folders":
        return (f"The images came in fixed folders (training images held out at random for validation, seed {seed}, "
                f"where no validation folder was given), divided")
    rows = [r for v in ((run.split or {}).get("splits") or {}).values() if isinstance(v, list) for r in v]
    if rows and any(isinstance(r, dict) and r.get("split") for r in rows):
        return f"The images were divided as listed in the manifest's split column (other rows at random, seed {seed})"
    return f"The images were split at random (seed {seed}; whole groups kept together)"


def _task_phrase(task: Task, run: RunData) -> str:
    return task.methods_task(run) or run.task


def _training_sentence(run: RunData, cite: _Cite) -> str:
    optimizer = str(run.get("train.optimizer.name", "adam"))
    opt = f"Adam {cite('adam')}" if optimizer == "adam" else f"AdamW {cite('adamw')}" if optimizer == "adamw" \
        else "stochastic gradient descent with momentum" if optimizer == "sgd" else optimizer.upper()
    schedule = run.get("train.schedule.name", "constant")
    sched = f" with a cosine learning-rate decay {cite('cosine')}" if schedule == "cosine" else \
        f" with a {schedule} learning-rate schedule" if schedule != "constant" else ""
    loss = resolved_loss(run)
    words = []
    for part in loss.split("+"):
        word = _LOSS_WORDS.get(part, part)
        if part in ("dice", "focal", "ssim"):
            word += f" {cite(part)}"
        words.append(word)
    epochs = len(run.history) or run.get("train.epochs", "?")
    return (f"The model was trained for {_length(run, epochs)}, in batches of {run.get('train.batch_size', '?')}, "
            f"with {opt}, learning rate {fmt(run.get('train.optimizer.learning_rate'))}{sched}, minimising the "
            f"{' plus '.join(words)} loss; {_checkpoint_phrase(run)}.")


def _length(run: RunData, epochs: Any) -> str:
    """``80 epochs``, or with a time budget ``19 min 40 s (57 epochs in a time budget of 20 min; ...)``."""
    from builder.report.facts import duration

    budget = (run.state or {}).get("time_budget") or {}
    if not budget.get("budget_s"):
        return f"{epochs} epochs"
    limit = duration(budget["budget_s"]).replace(" 0 s", "")
    return (f"{duration(budget.get('used_s'))} ({epochs} epochs in a time budget of {limit}; the number of epochs "
            "and the learning-rate schedule were set from the measured epoch time)")


def _checkpoint_phrase(run: RunData) -> str:
    """Which checkpoint was kept: by the validation loss, or by the task's headline metric on validation images."""
    monitor = str((run.state or {}).get("monitor") or "val_loss")
    label, key = task_of(run).headline
    if monitor == f"val_{key}":
        name = label if label[:2].isupper() else label[:1].lower() + label[1:]  # keep PSNR, AP@0.5, IoU
        return (f"the {name} on the validation images was computed after every epoch and the checkpoint with the "
                "highest value was kept")
    if monitor == "val_loss":
        return "the checkpoint with the lowest validation loss was kept"
    if monitor == "loss":
        return "the checkpoint with the lowest training loss was kept (no validation images)"
    best = "lowest" if (run.state or {}).get("mode") == "min" else "highest"
    return f"the checkpoint with the {best} {monitor.replace('_', ' ')} was kept"


def _evaluation_sentence(run: RunData, cite: _Cite) -> str:
    metrics = run.metrics or {}
    headline = metrics.get("headline") or {}
    names = list((metrics.get("metrics") or {}).keys())
    if not names:
        return "The model was not evaluated on held-out test images."
    value = headline.get("value")
    labels = [label for label, keys, _, _ in task_of(run).report_metrics
              if any(k.lower() in {n.lower() for n in names} for k in keys)]
    shown = labels[:6] or [n.replace("_", " ") for n in names[:6]]
    where = f"{metrics.get('n_images', '?')} held-out {metrics.get('split', 'test')} images"
    text = f"On the {where} we report {', '.join(shown)}"
    if any(n.lower().startswith("ssim") for n in names):
        text += f" (SSIM: {cite('ssim')})"
    if isinstance(value, int | float):
        text += f"; the {headline.get('name')} was {fmt(float(value))}"
    return text + "."


def methods_section(run: RunData) -> Section:
    """The Methods paragraph followed by its reference list."""
    section = Section("methods", "Methods")
    text, used = methods_text(run)
    section.add("text", text="Ready to paste into a paper (check the numbers and adapt the wording):")
    section.add("methods", text=text)
    section.add("subheading", text="References")
    section.add("references", items=[CITATIONS[k][1] for k in used], links=[CITATIONS[k][2] for k in used])
    return section
