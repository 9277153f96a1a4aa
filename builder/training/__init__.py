"""The training engine core: run folders, checkpoints, resume, schedules, devices and progress.

Importing this package (and ``run_folder``, ``progress``, ``schedules``, ``engine``) does not import TensorFlow;
the functions that need it import it when called. ``callbacks`` imports Keras at module level.
"""
