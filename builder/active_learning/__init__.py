"""Guarded active learning: rank unlabelled images by how unsure the model is, and keep a retrained model only
when it is not worse on the guard set.

- :mod:`~builder.active_learning.uncertainty`: entropy, margin and test-time-augmentation disagreement.
- :mod:`~builder.active_learning.ranking`: the "annotate next" order of images.
- :mod:`~builder.active_learning.guard`: the guard-set comparison of two model versions.
- :mod:`~builder.active_learning.versions`: the model versions of a data folder and their annotation counts.
"""
