"""One exception hierarchy for the local run; every message says what failed and where to look."""

from __future__ import annotations


class LocalRunError(Exception):
    """Base class: the local stack could not be brought up or did not check out."""


class EmulatorError(LocalRunError):
    """moto server did not start or answer."""


class FixtureError(LocalRunError):
    """The pre-existing resources (Lex V2 bot and alias) could not be created in moto."""


class TerraformError(LocalRunError):
    """A terraform command failed or produced something unexpected (e.g. a non-empty second plan)."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class VerificationError(LocalRunError):
    """The applied stack does not look as it should in moto (e.g. the bot alias code hook)."""
