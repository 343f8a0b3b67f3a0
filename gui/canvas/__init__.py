"""The node editor: a QGraphicsScene that follows a core Graph, its view, items and undo commands."""
