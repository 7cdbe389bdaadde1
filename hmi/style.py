"""ISA-101 high-performance colours: grey when normal, colour only for abnormal states.

Priority colours are always doubled by a shape and a word (colour-blind operators,
monochrome printouts): critical red triangle, high orange diamond, medium yellow square,
low cyan circle; shelved and suppressed in neutral purple outline.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor

from core.model import Priority

PRIORITY_COLOUR = {
    Priority.CRITICAL: QColor("#d62728"),
    Priority.HIGH: QColor("#ff7f0e"),
    Priority.MEDIUM: QColor("#e6c619"),
    Priority.LOW: QColor("#17becf"),
}
PRIORITY_SHAPE = {Priority.CRITICAL: "▲", Priority.HIGH: "◆", Priority.MEDIUM: "■", Priority.LOW: "●"}
SHELVED = QColor("#8e6fb8")


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    panel: str
    text: str
    muted: str
    water: str
    structure: str


DAY = Theme("day", "#d9d9d9", "#e8e8e8", "#1e1e1e", "#6b6b6b", "#7f9bb3", "#9a9a9a")
NIGHT = Theme("night", "#2b2b2b", "#363636", "#e6e6e6", "#9a9a9a", "#4f6d86", "#5c5c5c")
THEMES = {"day": DAY, "night": NIGHT}


def stylesheet(theme: Theme) -> str:
    return f"""
    QWidget {{ background: {theme.background}; color: {theme.text}; font-size: 15px; }}
    QLabel {{ background: transparent; }}
    QFrame#card, QFrame#banner {{
        background: {theme.panel}; border: 1px solid {theme.structure}; border-radius: 4px; }}
    QLabel#title {{ font-size: 19px; font-weight: bold; }}
    QLabel#muted {{ color: {theme.muted}; }}
    QTabBar::tab {{ padding: 8px 18px; font-size: 16px; }}
    QTabBar::tab:selected {{ background: {theme.panel}; font-weight: bold; }}
    QHeaderView::section {{ background: {theme.panel}; padding: 4px; border: 0; font-weight: bold; }}
    QTableView {{ gridline-color: {theme.structure}; selection-background-color: {theme.structure}; }}
    QPushButton {{
        padding: 6px 14px; border: 1px solid {theme.structure}; border-radius: 3px;
        background: {theme.panel}; }}
    QPushButton:disabled {{ color: {theme.muted}; }}
    """
