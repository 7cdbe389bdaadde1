"""Interface language: French first, English available (Qt Linguist files in resources/i18n).

Source strings are English; ``resources/i18n/ecreteur_fr.ts`` holds the French, compiled to
``ecreteur_fr.qm``. The language comes from the site config, the system locale or the menu.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from core.paths import resources
from core.words import number as _number

I18N = resources() / "i18n"
CONTEXT = "ecreteur"
_installed = "en"


def tr(text: str) -> str:
    """The operator's-language version of ``text`` (an English source string)."""
    return QCoreApplication.translate(CONTEXT, text)


def pick_language(configured: str | None) -> str:
    if configured in ("fr", "en"):
        return configured
    return "en" if QLocale.system().language() == QLocale.Language.English else "fr"


def language() -> str:
    """The language of the interface now ("fr" or "en"), e.g. to pick an alarm's message."""
    return _installed


def number(value: float, decimals: int) -> str:
    """A figure in the interface's language: "12,50" in French, "12.50" in English."""
    return _number(value, decimals, _installed)


def install(app: QCoreApplication, language: str) -> QTranslator | None:
    """Load the translation for ``language``; English needs none. Keep the returned object alive."""
    global _installed
    _installed = language
    if language == "en":
        return None
    translator = QTranslator(app)
    if not translator.load(str(I18N / f"ecreteur_{language}.qm")):
        raise FileNotFoundError(f"missing translation {I18N / f'ecreteur_{language}.qm'}")
    app.installTranslator(translator)
    return translator
