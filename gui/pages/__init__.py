"""The pages of the main window: start, editor, data, training, results."""
