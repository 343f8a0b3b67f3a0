"""Training: data sets, the training configuration, optimizers as graph updates, and the loop.

    from core.training import Run
    for metrics in Run(graph).start():
        print(metrics.step, metrics.loss)
"""
from .config import ConfigError, TrainConfig, read_config
from .datasets import DATASETS, Dataset, DatasetError, load_dataset
from .loop import Run, StepMetrics
from .nonfinite import NonFiniteError

__all__ = ["DATASETS", "ConfigError", "Dataset", "DatasetError", "NonFiniteError", "Run", "StepMetrics",
           "TrainConfig", "load_dataset", "read_config"]
