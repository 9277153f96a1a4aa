"""Annotation in the app: painting tools on the image viewer, the tool bar, and class assignment."""
