"""The node editor: a graph of blocks on a QGraphicsView, edited through undoable commands."""
