"""Forecasting models behind one interface, in a registry (see base.py).

Importing this package registers the built-in models; an extension registers its own
`ModelSpec` the same way.
"""

from core.forecasting.forecasters import arima, baselines, ets, gbm, intermittent, theta
from core.forecasting.forecasters.base import MODELS, Forecaster, ModelSpec, Prediction, register

__all__ = [
    "MODELS",
    "Forecaster",
    "ModelSpec",
    "Prediction",
    "arima",
    "baselines",
    "ets",
    "gbm",
    "intermittent",
    "register",
    "theta",
]
