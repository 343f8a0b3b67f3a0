"""Graphics items of the canvas: nodes, ports and edges. They paint and report; they never edit."""
