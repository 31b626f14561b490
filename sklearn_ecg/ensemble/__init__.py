"""Ensembles of multi-label classifiers."""

from ._voting import MultilabelVotingClassifier

__all__ = ["MultilabelVotingClassifier"]
