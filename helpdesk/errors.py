"""The domain error every app's errors derive from. Services raise these, never DRF ones."""

from enum import Enum


class DomainError(Exception):
    """A rule was broken; `message` says what happened and what to do next."""

    code: Enum

    def __init__(self, code: Enum, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
