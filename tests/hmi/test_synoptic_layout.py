"""The synoptic's labels never sit on its drawing, whatever the window's size (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_config
from core.model import Quality, Sample, utcnow
from core.runtime import Runtime
from hmi.style import DAY
from hmi.views.synoptic import DamDrawing
from tests.conftest import REPO

# long values, as a flood gives them: the widest texts the drawing must make room for
VALUES = {"level": 13.33, "volume": 1_639_544.0, "inflow": 215.1, "outflow": 15.3, "spillway_flow": 123.4,
          "gate": 100.0, "rain": 120.0, "rain_total": 339.4}  # fmt: skip


@pytest.mark.parametrize("size", [(700, 420), (1000, 560), (1500, 700), (900, 900)])
async def test_no_label_overlaps_the_drawing_or_another_label(
    qtbot: object, tmp_path: Path, size: tuple[int, int]
) -> None:
    config = load_config(REPO / "resources" / "sites" / "demo.yaml")
    runtime = Runtime(config, data_dir=tmp_path)
    now = utcnow()
    runtime.latest = {
        f"lauragais.{role}": Sample(f"lauragais.{role}", now, v, Quality.GOOD) for role, v in VALUES.items()
    }
    drawing = DamDrawing(runtime, DAY)
    qtbot.addWidget(drawing)  # type: ignore[attr-defined]
    drawing.resize(*size)
    drawing.grab()  # paints: the labels are placed for this size
    assert set(drawing.hot) == set(VALUES)
    bounds = drawing.rect().toRectF()
    for key, box in drawing.hot.items():
        assert bounds.contains(box), (key, box, size)
        touching = [i for i, shape in enumerate(drawing.drawing) if shape.intersects(box)]
        assert not touching, (key, box, size)
    boxes = list(drawing.hot.items())
    for i, (key, box) in enumerate(boxes):
        for other, second in boxes[i + 1 :]:
            assert not box.intersects(second), (key, other, size)
