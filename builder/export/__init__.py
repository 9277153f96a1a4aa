"""Export trained models (Cellwright bundle, BioImage Model Zoo, ONNX, SavedModel) and import them safely.

Modules: :mod:`.metadata` (what an export carries), :mod:`.bundle`, :mod:`.bioimageio`, :mod:`.onnx`,
:mod:`.savedmodel` (writers, each checked by :mod:`.verify` right after writing), :mod:`.safe_import` and
:mod:`.reuse` (reading shared models back). Nothing here imports TensorFlow at module import time.
"""
