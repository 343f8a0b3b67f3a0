"""Teaching on the canvas: values by hand, the gradient graph, lessons."""
