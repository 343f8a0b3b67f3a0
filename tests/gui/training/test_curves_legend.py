"""The curves' legends sit between title and plot area: on a short, narrow plot they cover no curve and
stay inside their plot (they used to float over the top of the loss curve and run off its left edge)."""
from __future__ import annotations

import numpy as np

from core.training import StepMetrics
from gui.training.curves import CurvesPanel


def test_a_short_plots_legend_covers_no_data_and_fits_its_plot(qtbot):
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    panel.resize(745, 220)                 # the Training views dock at 1280x800: plots side by side, short
    panel.show()
    qtbot.waitExposed(panel)
    panel.begin_run("run 1")
    panel.set_total_steps(200)
    panel.add_metrics([StepMetrics(s, s // 25, s % 25, 25, 200, 2.3 * np.exp(-s / 30) + 0.1, {}, 0.1, 0.0,
                                   *((1.0, {"accuracy": 0.9}) if s % 25 == 0 else (None, None)))
                       for s in range(1, 201)])
    qtbot.wait(50)
    assert panel.side_by_side
    for plot, legend, names in ((panel.loss_plot, panel.loss_legend, ["train (batch)", "train (smoothed)",
                                                                      "validation"]),
                                (panel.metric_plot, panel.metric_legend, ["validation accuracy"])):
        assert [label.text for _, label in legend.items] == names
        box = legend.sceneBoundingRect()
        data = plot.getViewBox().sceneBoundingRect()
        assert box.height() > 5 and box.bottom() <= data.top() + 1          # above the data, not on it
        visible = box.intersected(plot.sceneBoundingRect())
        right = max(label.sceneBoundingRect().right() for _, label in legend.items)
        left = min(sample.sceneBoundingRect().left() for sample, _ in legend.items)
        assert plot.sceneBoundingRect().left() - 1 <= left and right <= plot.sceneBoundingRect().right() + 1
        assert visible.width() > 0
