"""Classifiers that tell bone flare from true progression, from observed histories only."""

from classifiers.base import ClassifierError, FlareClassifier, validate_probabilities
from classifiers.registry import available, create, get, names

__all__ = [
    "ClassifierError",
    "FlareClassifier",
    "available",
    "create",
    "get",
    "names",
    "validate_probabilities",
]
