"""Classifiers that tell bone flare from true progression, from observed histories only."""

from boneflare.classifiers.base import ClassifierError, FlareClassifier, validate_probabilities
from boneflare.classifiers.registry import available, create, get, names

__all__ = [
    "ClassifierError",
    "FlareClassifier",
    "available",
    "create",
    "get",
    "names",
    "validate_probabilities",
]
