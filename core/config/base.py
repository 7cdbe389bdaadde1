"""Building blocks shared by the config models: the strict base model, ids, secret references."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

IDENT = r"^[a-z][a-z0-9_]*$"
TAG_ID = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$"


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A ``!secret NAME`` reference, resolved from the OS keyring when it is needed."""

    name: str

    def __str__(self) -> str:
        return f"!secret {self.name}"


def _secret(value: Any) -> SecretRef:
    if isinstance(value, SecretRef):
        return value
    raise ValueError(
        "plain-text secrets are refused: write `!secret NAME` and store the value with "
        "`ecreteur secrets set NAME`"
    )


Secret = Annotated[
    SecretRef,
    PlainValidator(_secret),
    WithJsonSchema({"type": "string", "description": "a `!secret NAME` reference to the OS keyring"}),
]


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo must not be silently ignored); parsed configs are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


PriorityName = Literal["critical", "high", "medium", "low"]


class Labels(StrictModel):
    """Operator-facing text in French (first) and English."""

    fr: str
    en: str = ""

    def get(self, language: str) -> str:
        return self.en if language == "en" and self.en else self.fr


class States(StrictModel):
    """A discrete tag's two values in words: what an operator reads instead of 0 and 1."""

    off: Labels = Field(description="the word for 0 (false), e.g. {fr: fermée, en: closed}")
    on: Labels = Field(description="the word for 1 (true), e.g. {fr: ouverte, en: open}")
