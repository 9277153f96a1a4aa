"""Annotation in the app: label edits on arrays, their undo history and writing them as ordinary files.

No Qt and no TensorFlow here; the GUI (``gui/annotation``) calls these functions.
"""
