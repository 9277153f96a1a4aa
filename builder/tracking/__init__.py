"""Cell tracking on label images: detections, linking (LAP), lineage, CTC files and CTC metrics.

NumPy/SciPy only; nothing here imports TensorFlow. The task module (:mod:`builder.tasks.tracking`) ties it to
recipes: it segments frames with an instance model, then calls :func:`builder.tracking.linker.track`.
"""
