"""The main window: alarm banner on top of every view, navigation, status bar.

The banner shows the most urgent unacknowledged alarm and the count per priority; it blinks
only while something is unacknowledged and stops on acknowledgement. The status bar shows each
station's link, the historian and the operator signed in (whose name goes in the journal).
Geometry and the last view are remembered between sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMainWindow,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.client.remote import ServerBoard
from core.model import Priority, StationStatus
from core.runtime import Runtime
from core.site.board import Authority
from core.site.operations import Actor, Command, OperationError, Role
from hmi import i18n
from hmi.bridge import Bridge
from hmi.i18n import tr
from hmi.style import PRIORITY_COLOUR, Theme, stylesheet
from hmi.tasks import later
from hmi.views.alarms import ACK_SHORTCUT, AlarmsView
from hmi.views.dashboard import DashboardView
from hmi.views.journal import JournalView
from hmi.views.overview import OverviewView
from hmi.views.paging import PagingView
from hmi.views.phone import Page, PhoneView
from hmi.views.synoptic import SynopticView
from hmi.views.trends import TrendsView
from hmi.widgets.banner import AlarmBanner
from hmi.widgets.link import link_reason, link_text
from hmi.widgets.operator import OperatorField

UNREACHABLE = "Server unreachable since {since}: alarms evaluated on this desktop (local), no paging from here, commands refused until it is back."  # noqa: E501
ROLES = {"viewer": "Viewer", "operator": "Operator", "engineer": "Engineer", "admin": "Administrator"}


class MainWindow(QMainWindow):
    def __init__(
        self,
        runtime: Runtime,
        theme: Theme,
        settings: QSettings | None = None,
        play: Callable[[], None] | None = None,
        signed_in: Actor | None = None,
        phone: Callable[[], Sequence[Page]] | None = None,
    ) -> None:
        super().__init__()
        self.runtime, self.theme = runtime, theme
        self.signed_in = signed_in  # a standalone desktop with accounts: who signed in
        self.settings = settings or QSettings("Ecreteur", "HMI")
        self.setWindowTitle(f"Écrêteur — {runtime.config.site.name}")
        self.setStyleSheet(stylesheet(theme))
        self.bridge = Bridge(runtime)
        if isinstance(runtime.board, ServerBoard):
            runtime.board.language = i18n.language()  # the server says its refusals in ours
        self.operator_field = OperatorField(self.settings)
        self.banner = AlarmBanner(runtime, self.actor, play)
        self.banner.refused.connect(lambda why: self.statusBar().showMessage("✖ " + why, 15_000))
        # where the alarms come from: said in red, above everything, when it is not the server
        self.authority_banner = QLabel()
        self.authority_banner.setObjectName("authority")
        self.authority_banner.setWordWrap(True)
        self.authority_label = QLabel()
        self.overview = OverviewView(runtime, self.bridge, theme)
        self.alarms = AlarmsView(runtime, self.bridge, theme, self.actor)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.overview, tr("Overview"))
        self.tabs.addTab(self.alarms, tr("Alarms"))
        self.trends = TrendsView(runtime, self.bridge, theme)
        self.tabs.addTab(self.trends, tr("Trends"))
        self.journal = JournalView(runtime, self.bridge)
        self.tabs.addTab(self.journal, tr("Journal"))
        self.paging = PagingView(runtime, self.bridge)
        self.tabs.addTab(self.paging, tr("On call"))
        self.dashboards = DashboardView(runtime, self.bridge, theme, self.actor)
        self.tabs.addTab(self.dashboards, tr("Dashboards"))
        self.phone = PhoneView(phone, runtime.config.site.timezone) if phone is not None else None
        if self.phone is not None:  # the demo's simulated phone
            self.tabs.addTab(self.phone, tr("Phone (demo)"))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.synoptic = SynopticView(runtime, self.bridge, theme)
        self.tabs.insertTab(1, self.synoptic, tr("Dam"))
        self.overview.open_station.connect(self.open_synoptic)
        self.synoptic.open_tag.connect(lambda tag: self.open_trend([tag]))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.authority_banner)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.station_labels: dict[str, QLabel] = {}
        for station in runtime.config.stations:
            label = QLabel()
            label.setMinimumWidth(60)  # cut, never widening the window past a small screen
            self.station_labels[station.id] = label
            self.statusBar().addWidget(label)
            self.show_station(runtime.stations[station.id])
        self.historian_label = QLabel()
        self.statusBar().addWidget(self.historian_label)
        self.simulation_label: QLabel | None = None
        if runtime.clock.speed != 1:  # a time-lapse says so, with its own time, on every tab
            self.simulation_label = QLabel()
            self.simulation_label.setObjectName("simulation")
            self.simulation_label.setStyleSheet("QLabel#simulation { border: 2px dashed palette(mid); "
                                                "padding: 1px 6px; font-weight: 600; }")  # fmt: skip
            self.menuBar().setCornerWidget(self.simulation_label)  # top right, never squeezed
        self.statusBar().addPermanentWidget(self.authority_label)
        actor = self.actor()
        if runtime.server is None and signed_in is None:  # no accounts here: a name, not verified
            self.operator_field.setToolTip(tr("Not verified: create accounts with ecreteur user add"))
            self.statusBar().addPermanentWidget(QLabel(tr("Operator:")))
            self.statusBar().addPermanentWidget(self.operator_field)
        else:  # the name in the journal is the one signed in
            who = tr("Signed in:") + f" {actor.name} ({tr(ROLES[actor.role.word])})"
            self.statusBar().addPermanentWidget(QLabel(who))
        self.bridge.station.connect(self.show_station)
        self.bridge.alarm.connect(self.banner.on_event)
        self.bridge.alarm.connect(lambda _event: self.show_authority())
        self.alarms.apply_role()
        self.show_authority()
        QShortcut(QKeySequence("Ctrl+" + ACK_SHORTCUT), self, self.banner.acknowledge_top)
        quit_action = QAction(tr("Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.addAction(quit_action)
        self._build_menu(quit_action)
        self._health = QTimer(self)
        self._health.timeout.connect(self.show_historian)
        self._health.start(2000)
        self.show_historian()
        if self.simulation_label is not None:
            self._simulated = QTimer(self)
            self._simulated.timeout.connect(self.show_simulated_time)
            self._simulated.start(1000)
            self.show_simulated_time()
        self.restore()

    def show_simulated_time(self) -> None:
        assert self.simulation_label is not None
        clock = self.runtime.clock
        now = clock.now().astimezone(ZoneInfo(self.runtime.config.site.timezone))
        text = tr("Simulation ×{speed} · simulated time {time}")
        when = now.strftime("%d/%m %H:%M:%S")
        self.simulation_label.setText(text.format(speed=f"{clock.speed:g}", time=when))

    def _build_menu(self, quit_action: QAction) -> None:
        """Language and theme overrides, remembered and applied at the next start."""
        menu = self.menuBar().addMenu(tr("Display"))
        choices = {
            "language": (("fr", "Français"), ("en", "English")),
            "theme": (("day", tr("Day theme")), ("night", tr("Control-room theme"))),
        }
        for key, options in choices.items():
            current = str(self.settings.value(key, ""))
            for value, label in options:
                action = QAction(label, self, checkable=True, checked=current == value)
                action.triggered.connect(lambda _checked=False, k=key, v=value: self.choose(k, v))
                menu.addAction(action)
            menu.addSeparator()
        menu.addAction(quit_action)
        self._build_modes_menu()

    def _build_modes_menu(self) -> None:
        """Modes (maintenance of a dam, site-wide flood…): an engineer's decision, with a reason."""
        config = self.runtime.config
        modes = sorted({mode for rule in config.alarms for mode in rule.suppressed_in})
        self.modes_menu = self.menuBar().addMenu(tr("Modes"))
        self.mode_actions: dict[tuple[str, str | None], QAction] = {}
        places: list[tuple[str | None, str]] = [(None, tr("whole site"))]
        places += [(station.id, station.name) for station in config.stations]
        for mode in modes:
            for station, where in places:
                action = QAction(f"{tr(mode.capitalize())} — {where}", self, checkable=True)
                action.triggered.connect(lambda on, m=mode, s=station: self._mode_clicked(m, s, on))
                self.modes_menu.addAction(action)
                self.mode_actions[(mode, station)] = action
            self.modes_menu.addSeparator()
        allowed = self.actor().may(Command.ENTER_MODE)
        for action in self.mode_actions.values():
            action.setEnabled(allowed)
        self.modes_menu.setEnabled(bool(modes))
        self.modes_menu.aboutToShow.connect(lambda: later(self.show_modes()))

    async def show_modes(self) -> None:
        """Tick the modes in force, as the authority (this process or the server) has them."""
        active = {(m.mode, m.station) for m in await self.runtime.board.modes()}
        for key, action in self.mode_actions.items():
            action.setChecked(key in active)

    def _mode_clicked(self, mode: str, station: str | None, on: bool) -> None:
        reason, ok = QInputDialog.getText(self, tr("Modes"), tr("Reason (required):"))
        if ok and reason.strip():
            later(self.set_mode(mode, station, on, reason))
        else:
            self.mode_actions[(mode, station)].setChecked(not on)

    async def set_mode(self, mode: str, station: str | None, on: bool, reason: str) -> bool:
        """Enter or leave a mode through the board; a refusal is said in the status bar."""
        try:
            await self.runtime.board.set_mode(self.actor(), mode, station, on, reason)
        except OperationError as err:
            self.statusBar().showMessage("✖ " + err.text(i18n.language()), 15_000)
            await self.show_modes()
            return False
        await self.show_modes()
        self.statusBar().showMessage(tr("Mode changed."), 10_000)
        return True

    def choose(self, key: str, value: str) -> None:
        self.settings.setValue(key, value)
        self.statusBar().showMessage(tr("Applied at the next start."), 10_000)

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.journal:
            self.journal.reload()
        elif self.tabs.currentWidget() is self.paging:
            self.paging.reload()

    def open_synoptic(self, station: str) -> None:
        """A click on a dam's card (level 1) opens its synoptic (level 2)."""
        self.synoptic.show_station(station)
        self.tabs.setCurrentWidget(self.synoptic)

    def open_trend(self, tags: list[str]) -> None:
        """A click on a value (level 2) opens its trend over the last 6 hours (level 3)."""
        self.trends.show_tags([tag for tag in tags if tag in self.trends.tags])
        self.tabs.setCurrentWidget(self.trends)

    def operator(self) -> str:
        return self.actor().name

    def actor(self) -> Actor:
        """Who acts from this desktop: the operator signed in on the server, or (standalone)
        the name typed in the status bar, for the operations surface and its audit trail."""
        if self.runtime.server is not None:
            return self.runtime.server.session.actor()
        if self.signed_in is not None:
            return self.signed_in
        # no accounts on this PC: it is not access-controlled (the name is noted, not verified)
        name = self.operator_field.text().strip() or tr("unknown operator")
        return Actor(name, Role.ENGINEER, "desktop")

    def show_authority(self) -> None:
        """Standalone: nothing to say. Client: the server's state; lost, a red banner."""
        authority: Authority = self.runtime.board.authority
        if authority.server is None:
            self.authority_banner.hide()
            self.authority_label.setText(tr("Standalone: this desktop pages"))
            return
        if authority.reachable:
            self.authority_banner.hide()
            self.authority_label.setText(tr("Server:") + f" {authority.server} ● " + tr("connected"))
            self.authority_label.setStyleSheet("")
            return
        since = authority.since.astimezone(ZoneInfo(self.runtime.config.site.timezone)).strftime("%H:%M:%S")
        self.authority_banner.setText(
            "✖ " + tr(UNREACHABLE).format(since=since)
            + f"\n{authority.server} — {authority.detail}"
        )  # fmt: skip
        colour = PRIORITY_COLOUR[Priority.HIGH].name()
        self.authority_banner.setStyleSheet(
            f"color: white; background: {colour}; font-weight: bold; padding: 6px;"
        )
        self.authority_banner.show()
        self.authority_label.setText(tr("Server:") + f" {authority.server} ✖ " + tr("unreachable"))
        self.authority_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def show_station(self, status: StationStatus) -> None:
        label = self.station_labels.get(status.station)
        if label is None:
            return
        station = self.runtime.config.station(status.station)
        state, ok = link_text(status, station.max_clock_skew_s)
        whole = f"{'●' if ok else '✖'} {station.name}: {state.removeprefix('✖ ')}"
        label.setText(f"● {station.name}" if ok else whole)  # a healthy link needs no words here
        why = link_reason(status, station.expected_period_s)
        label.setToolTip(f"{whole}\n{why}" if why else whole)  # whole when cut
        label.setStyleSheet(
            "" if ok else f"color: {PRIORITY_COLOUR[Priority.HIGH].name()}; font-weight: bold;"
        )

    def show_historian(self) -> None:
        ok = self.runtime.historian_writable()
        self.historian_label.setText(tr("Historian: OK") if ok else "✖ " + tr("Historian: NOT WRITING"))

    def restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 800)
        self.tabs.setCurrentIndex(int(str(self.settings.value("view", 0))))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("view", self.tabs.currentIndex())
        self.settings.setValue("operator", self.operator_field.text())
        self.bridge.close()
        super().closeEvent(event)
