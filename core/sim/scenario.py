"""Scenario and dam files of the simulator (YAML), validated like the site config."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML

from core.config.base import Labels
from core.paths import resources
from core.sim.flood import DamParameters

RESOURCES = resources()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RainStep(_Model):
    hour: float = Field(ge=0)
    mm_h: float = Field(ge=0, le=500)


class Scenario(_Model):
    """Rain over time and the starting state of every dam."""

    name: Labels
    duration_h: float = Field(gt=0)
    initial_level_m: float = Field(0.5, ge=0)
    gate_opening: float = Field(1.0, ge=0, le=1)
    hyetograph: list[RainStep] = Field(min_length=1)

    def rain_at(self, hours: float) -> float:
        """Rain intensity (mm/h) at ``hours`` into the scenario; the scenario loops."""
        hours %= self.duration_h
        current = 0.0
        for step in self.hyetograph:
            if step.hour > hours:
                break
            current = step.mm_h
        return current


class SimulatedDam(_Model):
    station: str
    name: str
    port: int = Field(ge=1, le=65535)
    rain_factor: float = Field(1.0, ge=0)
    params: dict[str, float] = {}

    def parameters(self) -> DamParameters:
        return DamParameters(**self.params)  # type: ignore[arg-type]


class DamsFile(_Model):
    dams: list[SimulatedDam] = Field(min_length=1)


def _load(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return YAML(typ="safe").load(handle)


def load_scenario(name_or_path: str) -> Scenario:
    """A scenario by file path or by name in ``resources/scenarios`` (e.g. ``flood-100y``)."""
    path = Path(name_or_path)
    if not path.exists():
        path = RESOURCES / "scenarios" / f"{name_or_path}.yaml"
    try:
        return Scenario.model_validate(_load(path))
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in (RESOURCES / "scenarios").glob("*.yaml")))
        raise ValueError(f"unknown scenario {name_or_path!r} (known: {known})") from None
    except ValidationError as err:
        raise ValueError(f"{path}: {err}") from None


def load_dams(path: str | Path | None = None) -> DamsFile:
    path = Path(path) if path else RESOURCES / "sim" / "demo-dams.yaml"
    try:
        return DamsFile.model_validate(_load(path))
    except ValidationError as err:
        raise ValueError(f"{path}: {err}") from None
