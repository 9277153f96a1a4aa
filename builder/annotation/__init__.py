"""Annotation in the app: label edits on arrays, their undo history and writing them as ordinary files; which
annotations a person checked (``checked``), and model predictions written as annotations to correct (``propose``).

No Qt and no TensorFlow here; the GUI (``gui/annotation``) calls these functions.
"""
