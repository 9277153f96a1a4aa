"""Export trained models (Cellwright bundle, BioImage Model Zoo, ONNX, SavedModel).

Modules: :mod:`.metadata` (what an export carries), :mod:`.api` (one call per export job), the writers
:mod:`.bundle`, :mod:`.bioimageio`, :mod:`.onnx`, :mod:`.savedmodel` (each re-runs what it wrote with
:mod:`builder.model_files.verify`), and :mod:`.formats` (one module per format, registered in
:mod:`builder.export_registry`). Reading shared models back lives in :mod:`builder.model_files`.
Nothing here imports TensorFlow at module import time.
"""
