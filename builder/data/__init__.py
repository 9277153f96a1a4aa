"""Data layer: readers, dataset layouts, the data doctor, normalisation, patches/tiling and augmentation.

Importing this package is cheap: TensorFlow is only imported inside the functions that build ``tf.data`` pipelines.
"""
