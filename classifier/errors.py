"""Errors of the classifier. Each has an ``error_id`` the UI translates."""

from __future__ import annotations


class ClassifierError(Exception):
    """Base of classifier errors."""

    error_id = "classifier_error"


class TrainingDataError(ClassifierError, ValueError):
    """The data cannot be used for training or evaluation; the message says what to fix."""

    error_id = "training_data_invalid"
