"""The desktop as an operator uses it: live values, the alarm banner, acknowledge and shelve."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from core.bus import SAMPLES, STATION_STATUS
from core.model import (
    AlarmAction,
    AlarmEvent,
    AlarmStatus,
    ConnectionState,
    CrestForecast,
    Outlook,
    Priority,
    Quality,
    Sample,
    StationStatus,
    utcnow,
)
from core.runtime import Runtime
from core.sim.station import DamStation
from hmi.style import DAY, PRIORITY_COLOUR, PRIORITY_SHAPE
from hmi.window import MainWindow
from tests.conftest import eventually

ALARM = "level_lauragais:lauragais.level:H"


async def test_overview_shows_live_levels_and_the_link_state(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    window, _runtime, _station = desktop
    card = window.overview.cards["lauragais"]
    await eventually(lambda: card.gauge.value is not None, what="a level on the gauge")
    assert card.gauge.text().endswith(" m") and card.link.text() == "online"
    assert card.gauge.limits == {"H": 3.5, "HH": 13.5}
    await eventually(lambda: card.values["inflow"].text().endswith("m³/s"), what="the inflow")
    online = window.station_labels["lauragais"]
    assert online.text() == "● Barrage de la Ganguise" and "Ganguise: online" in online.toolTip()
    offline = window.station_labels["cevennes"].text()  # no simulator for this one
    assert offline.startswith("✖") and "OFFLINE" in offline


async def test_a_refused_station_says_a_person_must_act_and_a_skewed_clock_shows(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    window, runtime, _station = desktop
    detail = "station cevennes (…) presented an unknown certificate, SHA-256 AB:CD; trust it with `…`"
    refused = StationStatus("cevennes", ConnectionState.DISCONNECTED, utcnow(), detail, "certificate")
    runtime.bus.publish(STATION_STATUS, refused)
    card = window.overview.cards["cevennes"]
    await eventually(lambda: "REFUSED" in card.link.text(), what="the refusal on the card")
    assert "certificate not trusted" in card.link.text() and card.link.toolTip() == detail
    assert "REFUSED" in window.station_labels["cevennes"].text()
    skewed = StationStatus("cevennes", ConnectionState.CONNECTED, utcnow(), "", None, -300.4)
    runtime.bus.publish(STATION_STATUS, skewed)
    await eventually(lambda: "clock off by -300 s" in card.link.text(), what="the skew on the card")


async def test_an_alarm_reaches_the_banner_and_is_acknowledged_from_the_list(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    window, runtime, _station = desktop
    await eventually(lambda: window.banner.top_id == ALARM, what="the H alarm in the banner")
    assert window.banner.blinking and "Reservoir level high" in window.banner.message.text()
    assert window.alarms.table.rowCount() >= 1
    window.operator_field.setText("Marie Dupont")
    assert await window.alarms.acknowledge([ALARM], "vanne ouverte") == 1
    alarm = runtime.alarms.alarms[ALARM]
    assert alarm.state.status is AlarmStatus.ACKED and alarm.ack_user == "Marie Dupont"
    window.banner.refresh()
    assert not window.banner.blinking
    await runtime.journal.flush()
    assert alarm.since is not None
    events = await runtime.journal.events(alarm.since, alarm.since + timedelta(days=1), ALARM)
    last = [(e.action, e.user, e.comment) for e in events][-1]
    assert last == ("acknowledged", "Marie Dupont", "vanne ouverte")


async def test_space_twice_after_clicking_a_card_acknowledges_nothing(
    desktop: tuple[MainWindow, Runtime, DamStation], tmp_path: Path, qtbot: object
) -> None:
    """A critical alarm was acknowledged "from the banner" by two Space presses after a click on a
    card: the first muted the horn (its button had the focus), the second hit "Acknowledge"."""
    first, runtime, _station = desktop
    await eventually(lambda: first.banner.top_id == ALARM, what="the H alarm in the banner")
    first.close()
    # a desktop opened while the alarm sounds, as an operator finds it at the start of a shift
    window = MainWindow(runtime, DAY, QSettings(str(tmp_path / "shift.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)  # type: ignore[attr-defined]
    assert window.banner.silence.isEnabled() and window.banner.ack.isEnabled()
    qtbot.mouseClick(window.overview.cards["lauragais"], Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    for _ in range(2):
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Space)  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)  # an acknowledgement would be carried by now
    assert runtime.alarms.view(ALARM).status is AlarmStatus.UNACK
    chain, widget = [], window.focusWidget() or window
    for _ in range(200):  # the whole Tab order: no banner button is in it
        chain.append(widget)
        widget = widget.nextInFocusChain()
    tabbed = [w for w in chain if w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    assert window.banner.ack not in tabbed and window.banner.silence not in tabbed
    assert window.banner.ack.focusPolicy() is Qt.FocusPolicy.NoFocus
    assert window.banner.silence.focusPolicy() is Qt.FocusPolicy.NoFocus
    assert "Ctrl+F4" in window.banner.ack.text()  # the label says which key acknowledges
    window.close()


async def test_the_banner_keeps_its_geometry_while_it_blinks(
    desktop: tuple[MainWindow, Runtime, DamStation], qtbot: object
) -> None:
    """The blink changes the border's colour only: nothing below the banner moves."""
    window, _runtime, _station = desktop
    await eventually(lambda: window.banner.top_id == ALARM, what="the H alarm in the banner")
    banner = window.banner
    assert banner.blinking
    seen = set()
    for _ in range(4):
        banner._toggle()
        QApplication.processEvents()
        seen.add((banner.geometry().getRect(), banner.contentsRect().getRect(),
                  window.tabs.geometry().getRect()))  # fmt: skip
    assert len(seen) == 1


async def test_shelving_from_the_list_moves_the_alarm_to_its_own_filter(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    window, runtime, _station = desktop
    await eventually(lambda: runtime.alarms.alarms[ALARM].since, what="the H alarm")
    window.operator_field.setText("Paul")
    assert await window.alarms.shelve([ALARM], 30, "capteur en essai") == 1
    table = window.alarms.table
    shown = {table.item(r, 4).text() for r in range(table.rowCount())}  # type: ignore[union-attr]
    assert not any("Reservoir level high" in text for text in shown)
    window.alarms.filter.setCurrentIndex(1)  # shelved and suppressed
    assert window.alarms.table.rowCount() == 1
    assert window.alarms.table.item(0, 1).text() == "Shelved"  # type: ignore[union-attr]
    assert await window.alarms.unshelve([ALARM]) == 1


async def test_the_window_remembers_its_last_view(
    desktop: tuple[MainWindow, Runtime, DamStation], tmp_path: Path
) -> None:
    window, runtime, _station = desktop
    window.tabs.setCurrentWidget(window.alarms)
    window.close()
    settings = QSettings(str(tmp_path / "hmi.ini"), QSettings.Format.IniFormat)
    again = MainWindow(runtime, DAY, settings)
    assert again.tabs.currentWidget() is again.alarms
    again.close()
    await asyncio.sleep(0)


async def test_from_a_dam_to_its_synoptic_and_trend_with_history_limits_and_exports(
    desktop: tuple[MainWindow, Runtime, DamStation], tmp_path: Path
) -> None:
    window, runtime, _station = desktop
    await eventually(lambda: runtime.links[0].received > 50, what="some history")
    window.overview.open_station.emit("lauragais")  # level 1 -> level 2
    assert window.tabs.currentWidget() is window.synoptic
    assert window.synoptic.drawing.text_of("level").endswith(" m")
    window.synoptic.drawing.grab()  # paints, and places the clickable values
    assert set(window.synoptic.drawing.hot) >= {"level", "inflow", "outflow", "gate", "rain"}
    window.open_trend(["lauragais.level", "lauragais.inflow", "lauragais.outflow"])  # level 2 -> 3
    trends = window.trends
    assert window.tabs.currentWidget() is trends
    assert trends.selected() == ["lauragais.level", "lauragais.inflow", "lauragais.outflow"]
    assert trends.units == ["m", "m³/s"]  # one axis per unit
    # the alarm limits, then the dam's spillway sill and PHE, each with its figure and unit
    assert [line.label.toPlainText() for line in trends.limit_lines] == [
        "H 3.50 m", "HH 13.50 m", "Spillway sill 14.00 m", "PHE 16.00 m"
    ]  # fmt: skip
    window.synoptic.drawing.grab()
    assert [kind for kind, _value, _style in window.synoptic.drawing.marks({})] == ["Spillway sill", "PHE"]
    await eventually(lambda: len(trends.series["lauragais.level"].xs) > 3, what="the level's history")
    level = trends.series["lauragais.level"]
    assert trends.readout_at(level.xs[-1]).count(" m") >= 1
    trends.export_csv(tmp_path / "trend.csv")
    rows = (tmp_path / "trend.csv").read_text().splitlines()
    assert rows[0] == "tag,start,min,max,avg,last,count" and len(rows) > 3
    trends.export_png(tmp_path / "trend.png")
    assert (tmp_path / "trend.png").stat().st_size > 5_000
    before = len(level.xs)
    await eventually(lambda: len(level.xs) > before, what="live points appended")
    trends.show_tags(["lauragais.level"])  # changing the selection rebuilds the plot
    assert list(trends.series) == ["lauragais.level"] and trends.units == ["m"]
    assert len(trends.plot.plotItem.vb.addedItems) < 10


async def test_the_journal_tab_lists_who_did_what_and_exports_it(
    desktop: tuple[MainWindow, Runtime, DamStation], tmp_path: Path
) -> None:
    window, runtime, _station = desktop
    await eventually(lambda: runtime.alarms.alarms[ALARM].since, what="the H alarm")
    window.operator_field.setText("Marie Dupont")
    await window.alarms.acknowledge([ALARM], "vanne ouverte")
    window.tabs.setCurrentWidget(window.journal)
    await eventually(
        lambda: any(e.action == "acknowledged" for e in window.journal.entries), what="the journal"
    )
    window.journal.search.setText("marie")
    rows = window.journal.table.rowCount()
    assert rows >= 1 and window.journal.table.item(0, 3).text() == "Marie Dupont"  # type: ignore[union-attr]
    window.journal.export_csv(tmp_path / "journal.csv")
    lines = (tmp_path / "journal.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == rows + 1 and "vanne ouverte" in lines[1]


async def test_the_display_menu_remembers_language_and_theme(
    desktop: tuple[MainWindow, Runtime, DamStation], tmp_path: Path
) -> None:
    window, _runtime, _station = desktop
    menu = window.menuBar().actions()[0].menu()
    labels = [action.text() for action in menu.actions() if action.text()]  # type: ignore[union-attr]
    assert labels[:4] == ["Français", "English", "Day theme", "Control-room theme"]
    window.choose("language", "en")
    window.choose("theme", "night")
    settings = QSettings(str(tmp_path / "hmi.ini"), QSettings.Format.IniFormat)
    assert (settings.value("language"), settings.value("theme")) == ("en", "night")
    assert window.statusBar().currentMessage() == "Applied at the next start."


async def test_the_horn_repeats_until_acknowledged_and_a_mute_lasts_until_the_next_new_alarm(
    desktop: tuple[MainWindow, Runtime, DamStation], qtbot: object
) -> None:
    window, runtime, _station = desktop
    banner = window.banner
    played: list[int] = []
    banner.horn.play = lambda: played.append(1)
    banner.horn._timer.setInterval(50)
    await eventually(lambda: banner.top_id == ALARM, what="the H alarm")
    banner.refresh()
    qtbot.waitUntil(lambda: len(played) >= 3, timeout=5000)  # type: ignore[attr-defined]  # Qt's timers run
    assert banner.silence.isEnabled()
    qtbot.mouseClick(banner.silence, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    silenced = len(played)
    qtbot.wait(300)  # type: ignore[attr-defined]
    assert len(played) == silenced and not banner.horn.sounding  # muted, although still unacknowledged
    assert banner.top_id is not None
    now = runtime.alarms.clock.now()
    raised = AlarmEvent(
        "new", "lauragais.level", now, AlarmAction.RAISED, AlarmStatus.UNACK, True, Priority.CRITICAL
    )
    banner.on_event(raised)  # a new alarm: the mute is lifted
    qtbot.waitUntil(lambda: len(played) >= silenced + 2, timeout=5000)  # type: ignore[attr-defined]
    for alarm in runtime.alarms.annunciated():
        runtime.alarms.acknowledge(alarm.id, "Marie", "vu")
    banner.refresh()
    assert not banner.horn.sounding  # nothing left to acknowledge: silence


async def test_with_operator_accounts_the_desktop_signs_in_and_a_viewer_cannot_acknowledge(
    desktop: tuple[MainWindow, Runtime, DamStation], tmp_path: Path, qtbot: object
) -> None:
    from core.site.operations import Role
    from core.storage.users import UserStore
    from hmi.signin import SignInDialog, on_accounts

    _window, runtime, _station = desktop
    store = UserStore(tmp_path / "tokens.db")
    store.add("Léa", "viewer", "je-regarde-seulement")
    dialog = SignInDialog("ce poste", on_accounts(store), user="Léa")
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    asked = asyncio.ensure_future(dialog.session())
    dialog.password.setText("faux")
    dialog.submit()
    await eventually(lambda: "wrong user name or password" in dialog.error.text(), what="the refusal")
    dialog.password.setText("je-regarde-seulement")
    dialog.submit()
    lea = await asyncio.wait_for(asked, 60)
    assert (lea.name, lea.role) == ("Léa", Role.VIEWER)

    window = MainWindow(runtime, DAY, QSettings(str(tmp_path / "lea.ini"), QSettings.Format.IniFormat),
                        signed_in=lea)  # fmt: skip
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    await eventually(lambda: window.banner.top_id == ALARM, what="the H alarm in the banner")
    assert not window.banner.ack.isEnabled() and not window.alarms.ack_button.isEnabled()
    assert window.operator() == "Léa" and window.operator_field.parent() is None  # no free text
    assert await window.alarms.acknowledge([ALARM], "essai") == 0  # refused by the operations too
    assert "may not" in window.alarms.notice.text()
    assert runtime.alarms.view(ALARM).status is AlarmStatus.UNACK
    window.close()


async def test_an_engineer_enters_a_mode_and_takes_an_alarm_out_of_service_from_the_desktop(
    desktop: tuple[MainWindow, Runtime, DamStation], tmp_path: Path, qtbot: object
) -> None:
    from core.site.operations import Actor, Role

    _unverified, runtime, _station = desktop
    marie = Actor("Marie", Role.OPERATOR, "desktop")
    settings = QSettings(str(tmp_path / "marie.ini"), QSettings.Format.IniFormat)
    operator_window = MainWindow(runtime, DAY, settings, signed_in=marie)
    qtbot.addWidget(operator_window)  # type: ignore[attr-defined]
    assert not operator_window.mode_actions[("maintenance", "lauragais")].isEnabled()
    assert not operator_window.alarms.service_button.isEnabled()
    assert not operator_window.dashboards.edit_button.isEnabled()
    assert not await operator_window.set_mode("maintenance", "lauragais", True, "essai")  # refused anyway
    assert "may not" in operator_window.statusBar().currentMessage()
    operator_window.close()

    paul = Actor("Paul", Role.ENGINEER, "desktop")
    window = MainWindow(runtime, DAY, QSettings(str(tmp_path / "paul.ini"), QSettings.Format.IniFormat),
                        signed_in=paul)  # fmt: skip
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    action = window.mode_actions[("maintenance", "lauragais")]
    assert action.isEnabled() and window.alarms.service_button.isEnabled()
    assert await window.set_mode("maintenance", "lauragais", True, "vidange de la retenue")
    assert action.isChecked() and not window.mode_actions[("maintenance", None)].isChecked()
    assert [(m.mode, m.station, m.actor) for m in runtime.operations.modes()] == [
        ("maintenance", "lauragais", "Paul")
    ]
    assert await window.set_mode("maintenance", "lauragais", False, "fin de vidange")
    assert not action.isChecked() and runtime.operations.modes() == []

    await eventually(lambda: window.banner.top_id == ALARM, what="the H alarm in the banner")
    assert await window.alarms.remove_from_service([ALARM], "capteur déposé") == 1
    assert runtime.alarms.view(ALARM).status is AlarmStatus.OUT_OF_SERVICE
    assert await window.alarms.return_to_service([ALARM]) == 1
    assert runtime.alarms.view(ALARM).status is not AlarmStatus.OUT_OF_SERVICE

    assert window.dashboards.edit_button.isEnabled() and window.dashboards.save()
    await runtime.audit.flush()
    trail = runtime.audit.entries(utcnow() - timedelta(hours=1), utcnow() + timedelta(seconds=1))
    mine = [(e.actor, e.command, e.outcome.split(":")[0]) for e in trail if e.actor in ("Paul", "Marie")]
    assert mine == [
        ("Marie", "enter_mode", "forbidden"),
        ("Paul", "enter_mode", "done"),
        ("Paul", "leave_mode", "done"),
        ("Paul", "remove_from_service", "done"),
        ("Paul", "return_to_service", "done"),
        ("Paul", "save_dashboards", "done"),
    ]
    window.close()


async def test_a_dam_in_trouble_stands_out_first_on_the_overview(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    window, runtime, _station = desktop
    overview = window.overview
    assert overview.order[0] == "lauragais"  # calm at first: the site's order
    critical = Sample("corbieres.level", runtime.clock.now(), 11.0, Quality.GOOD)  # past HH (10.5)
    await runtime.ingest([critical])
    await eventually(lambda: overview.order[0] == "corbieres", what="the dam in trouble first")
    card = overview.cards["corbieres"]
    colour = PRIORITY_COLOUR[Priority.CRITICAL].name()
    assert colour in card.styleSheet()  # its whole card takes the priority's colour…
    assert card.alarms.text().startswith(PRIORITY_SHAPE[Priority.CRITICAL] + " ")  # …and its shape
    assert "background" in card.alarms.styleSheet()  # solid while unacknowledged
    for alarm in runtime.alarms.annunciated():
        if alarm.station_id == "corbieres":
            runtime.alarms.acknowledge(alarm.id, "Marie", "vu")
    window.overview._alarm(None)
    assert card.urgency[0] == 1 and "background" not in card.alarms.styleSheet()  # outlined once seen


async def test_two_dams_alike_in_alarm_are_ordered_by_the_sooner_crest(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    window, runtime, _station = desktop
    overview, now = window.overview, runtime.clock.now()
    past_hh = [
        Sample("cevennes.level", now, 15.5, Quality.GOOD),
        Sample("corbieres.level", now, 11.0, Quality.GOOD),
    ]
    await runtime.ingest(past_hh)  # both critical, unacknowledged: a tie, in the site's order
    await eventually(lambda: overview.order[:2] == ["cevennes", "corbieres"], what="both dams first")

    def crest(station: str, level: float, peak: float, minutes: int) -> CrestForecast:
        at = now + timedelta(minutes=minutes)
        stops = Outlook(now, level, 300.0, (peak,), peak, at, peak - 0.1, peak + 0.1)
        return CrestForecast(station, f"{station}.level", now, level, 0.4, stops, None, True)

    overview._crest(crest("cevennes", 15.5, 16.0, 90))
    overview._crest(crest("corbieres", 11.0, 11.6, 25))  # its water crests sooner: first
    assert overview.order[:2] == ["corbieres", "cevennes"]
    overview._crest(crest("lauragais", 3.1, 3.4, 5))  # a calm dam is not moved by a forecast alone
    assert overview.order[2] == "lauragais"


async def test_a_trend_breaks_its_line_where_the_link_was_lost_not_where_a_value_held_steady(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    window, runtime, _station = desktop
    end = runtime.clock.now()
    start = end - timedelta(hours=2)

    def at(minute: int) -> datetime:
        return start + timedelta(minutes=minute)

    level = [Sample("cevennes.level", at(m), 5.0 + m / 100, Quality.GOOD) for m in range(0, 30)]
    level.append(Sample("cevennes.level", at(30), math.nan, Quality.BAD))  # the link's loss marker
    level += [Sample("cevennes.level", at(m), 6.0 + m / 100, Quality.GOOD) for m in range(70, 100)]
    steady = [Sample("cevennes.inflow", at(m), 0.3, Quality.GOOD) for m in (0, 99)]  # no change for 99 min
    await runtime.historian.write(level + steady)
    trends = window.trends
    trends.show_tags(["cevennes.level", "cevennes.inflow"])
    trends.set_range(timedelta(hours=2), end)
    await trends.load()
    lost, held = trends.series["cevennes.level"], trends.series["cevennes.inflow"]
    gaps = [x for x, y in zip(lost.xs, lost.ys, strict=True) if math.isnan(y)]
    assert len(gaps) == 1 and at(29) < datetime.fromtimestamp(gaps[0], UTC) < at(70)  # one break, in the hole
    assert not any(math.isnan(y) for y in held.ys)  # a steady value is drawn across its quiet hour
    assert lost.value_at(at(50).timestamp()) is None and held.value_at(at(50).timestamp()) == 0.3


async def test_a_live_trend_slides_with_now_pauses_when_dragged_and_folds_its_tail_into_history(
    desktop: tuple[MainWindow, Runtime, DamStation], monkeypatch: object
) -> None:
    import hmi.views.trends as trends_module

    window, runtime, _station = desktop
    monkeypatch.setattr(trends_module, "_LIVE_POINTS", 20)  # type: ignore[attr-defined]
    trends = window.trends
    window.open_trend(["lauragais.level"])
    trends.set_range(timedelta(minutes=10))
    view = trends.plot.plotItem.vb
    level = trends.series["lauragais.level"]

    def right_edge_is_now() -> bool:
        return abs(view.viewRange()[0][1] - runtime.clock.now().timestamp()) < 2.5

    await eventually(lambda: level.live > 3 and right_edge_is_now(), what="live values at the right edge")
    # the station keeps sending: the live tail is folded back into history, never left to grow
    await eventually(lambda: level.buckets and level.live < 20 and level.size > 25, what="a history reload")
    assert all(b <= a for b, a in zip(level.xs, level.xs[1:], strict=False))  # in time order
    assert level.value_at(level.xs[-1]) is not None

    view.sigRangeChangedManually.emit([True, True])  # the operator drags the plot back in time
    assert not trends.live
    paused_at = view.viewRange()[0][1]
    await asyncio.sleep(1.5)
    assert view.viewRange()[0][1] == paused_at  # it stays where the operator put it
    trends.set_range(timedelta(minutes=10))  # a preset button: live again
    assert trends.live
    await eventually(right_edge_is_now, what="the range following now again")


async def test_the_operator_s_name_is_shown_whole_in_the_status_bar(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    """A crowded status bar squeezed the field to the name's last letters ("arie Dupont")."""
    window, _runtime, _station = desktop
    field = window.operator_field
    field.setText("Marie-Christine Dupont")
    window.resize(1200, 700)
    window.grab()  # laid out and painted
    assert field.width() >= field.fontMetrics().horizontalAdvance(field.text())


async def test_a_crowded_status_bar_cuts_station_states_not_the_window_or_the_paging_notice(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    """Long station states (offline, clock off) once made the window wider than a 1,400 px
    screen, and the notice that this desktop pages the on-call staff was cut ("appelle l'ast")."""
    window, runtime, _station = desktop
    for station in runtime.config.stations:
        status = StationStatus(station.id, ConnectionState.CONNECTED, utcnow(), "", None, 54_834.0)
        runtime.bus.publish(STATION_STATUS, status)
    labels = window.station_labels.values()
    await eventually(lambda: all("54834" in label.text() for label in labels), what="every clock off")
    window.resize(1400, 800)
    window.grab()  # laid out and painted
    assert window.width() <= 1400
    needed = window.statusBar().minimumSizeHint().width()
    assert needed <= window.width(), f"the status bar needs {needed} px: what does not fit is cut anywhere"
    notice = window.authority_label
    assert notice.text() and notice.width() >= notice.fontMetrics().horizontalAdvance(notice.text())
    assert all("54834" in label.toolTip() for label in labels)  # a cut state is whole on hover


async def test_the_list_keeps_its_order_under_a_selected_row(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    """A critical alarm arriving while the operator has a row selected is added below and
    announced; the rows do not slide under the pointer. Left alone, the list sorts again."""
    window, runtime, _station = desktop
    view, table = window.alarms, window.alarms.table
    await eventually(lambda: ALARM in view._order, what="the H alarm in the list")

    def ids() -> list[str]:
        return [table.item(row, 0).data(Qt.ItemDataRole.UserRole) for row in range(table.rowCount())]

    table.selectRow(ids().index(ALARM))
    before = ids()
    critical = "level_lauragais:lauragais.level:HH"
    runtime.bus.publish(SAMPLES, [Sample("lauragais.level", utcnow(), 14.5)])  # above HH: critical
    await eventually(lambda: critical in ids(), what="the HH alarm in the list")
    assert ids()[: len(before)] == before and critical in ids()[len(before) :]  # below, not slid in on top
    assert "new alarm(s) below" in view.arrived.text()
    table.clearSelection()
    await eventually(lambda: ids()[0] == critical, what="the list sorted again once left alone")
    assert view.arrived.text() == ""


async def test_a_dam_card_says_the_rise_and_the_crest_to_come(
    desktop: tuple[MainWindow, Runtime, DamStation],
) -> None:
    """The rate in m/h and the crest the forecast expects with its site time ("Crête dans"
    used to be a slope's minutes to a threshold); the rain-goes-on case is in the tooltip."""
    window, _runtime, _station = desktop
    card = window.overview.cards["lauragais"]
    now = utcnow()
    stops = Outlook(now, 12.4, 300.0, (12.8, 13.2), 13.61, now + timedelta(minutes=95), 13.52, 13.70)
    more = Outlook(now, 12.4, 300.0, (13.0, 14.0), 15.2, now + timedelta(hours=24), 15.0, 15.4, True)
    card.show_crest(CrestForecast("lauragais", "lauragais.level", now, 12.4, 0.53, stops, more, True, 13.9))
    local = (now + timedelta(minutes=95)).astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    assert card.values["rate"].text() == "+0.53 m/h"
    assert card.values["crest"].text() == f"13.61 m about {local}"
    tip = card.values["crest"].toolTip()
    assert "13.52 to 13.70 m" in tip and "at least 15.20 m, still rising" in tip
    assert "If the rain goes on, PHE 13.90 m reached about" in tip  # PHE only if the rain goes on
    # the synoptic draws the same crest where the water will stand, and its time
    forecast = CrestForecast("lauragais", "lauragais.level", now, 12.4, 0.53, stops, more, True, 13.9)
    assert window.synoptic.drawing.peak(forecast) == (13.61, f"Expected crest 13.61 m about {local}")
    past = Outlook(now, 12.4, 300.0, (12.3, 12.2), 12.4, now, 12.4, 12.4)  # falling: the peak is behind
    assert window.synoptic.drawing.peak(replace(forecast, rain_stops=past)) is None
    # and the level's trend draws the path to it, reaching the crest's time while it follows now
    _runtime.alarms.crests["lauragais"] = forecast
    window.open_trend(["lauragais.level"])
    trends = window.trends
    texts = [item.textItem.toPlainText() for item in trends.forecast_items if hasattr(item, "textItem")]
    assert texts == [f"Expected crest 13.61 m about {local}"]
    assert trends.forecast_end == now + timedelta(minutes=95)
    crest_at = (now + timedelta(minutes=95)).timestamp()
    await eventually(
        lambda: trends.plot.plotItem.vb.viewRange()[0][1] >= crest_at, what="the range to the crest"
    )
