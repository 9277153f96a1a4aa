"""napari plugin: run a Cellwright model on an image layer, and open Cellwright run folders as layers.

napari finds it through the ``napari.manifest`` entry point (``napari.yaml`` here); install it with
``pip install "cellwright[napari]"``. Nothing here imports TensorFlow or Keras: the model runs in a
``cellwright predict`` worker process (see :mod:`gui.napari_plugin._widget`).
"""
