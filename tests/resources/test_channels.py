"""Channels: numbering by kind, opening hours per weekday in the channel's time zone."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.resources.channels import ChannelChange, ChannelIn, ChannelKind, OpeningHours
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.resources.service import Resources
from tests.resources.conftest import shanghai

WEEKDAYS_9_TO_6 = OpeningHours(
    week={
        "mon": ["09:00-12:00", "13:00-18:00"],
        "tue": ["09:00-12:00", "13:00-18:00"],
        "sat": ["10:00-24:00"],
    }
)


def channel(kind: ChannelKind, **over: object) -> ChannelIn:
    data = {"kind": kind, "name": "Outlet", "city": "Beijing", "area": "Haidian"}
    return ChannelIn.model_validate(data | over)


async def test_channels_are_numbered_by_kind(res: Resources) -> None:
    a = await res.channels.create(channel(ChannelKind.OWN_OUTLET), by="admin1")
    b = await res.channels.create(channel(ChannelKind.OWN_OUTLET), by="admin1")
    bank = await res.channels.create(channel(ChannelKind.BANK, name="ICBC"), by="admin1")
    agent = await res.channels.create(
        channel(ChannelKind.SECOND_TIER_AGENT, id="AGB042"), by="admin1"
    )
    c = await res.channels.create(channel(ChannelKind.SECOND_TIER_AGENT), by="admin1")
    assert [x.id for x in (a, b, bank, agent, c)] == [
        "OUT001",
        "OUT002",
        "BNK001",
        "AGB042",
        "AGB043",
    ]
    with pytest.raises(Invalid, match="numbered WEB followed by digits"):
        await res.channels.create(channel(ChannelKind.WEBSITE, id="OUT009"), by="admin1")
    with pytest.raises(Unavailable, match="exists already"):
        await res.channels.create(channel(ChannelKind.OWN_OUTLET, id="OUT001"), by="admin1")
    assert [x.id for x in await res.channels.all()] == [
        "AGB042",
        "AGB043",
        "BNK001",
        "OUT001",
        "OUT002",
    ]


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ("2026-11-23 08:59", False),  # Monday
        ("2026-11-23 09:00", True),
        ("2026-11-23 12:30", False),  # lunch
        ("2026-11-23 17:59", True),
        ("2026-11-23 18:00", False),
        ("2026-11-25 10:00", False),  # Wednesday: not listed
        ("2026-11-28 23:59", True),  # Saturday until midnight
        ("2026-11-29 00:30", False),  # Sunday
    ],
)
def test_opening_hours_in_beijing_time(when: str, is_open: bool) -> None:
    assert WEEKDAYS_9_TO_6.is_open(shanghai(when)) is is_open


def test_hours_in_another_time_zone() -> None:
    london = OpeningHours(timezone="Europe/London", week={"mon": ["09:00-17:00"]})
    assert london.is_open(shanghai("2026-11-23 17:30"))  # 09:30 in London
    assert not london.is_open(shanghai("2026-11-23 10:00"))  # 02:00 in London


def test_hours_are_described_for_a_clerk() -> None:
    assert WEEKDAYS_9_TO_6.describe() == (
        "mon–tue 09:00-12:00, 13:00-18:00; wed–fri closed; sat 10:00-24:00; sun closed"
        " (Asia/Shanghai)"
    )
    assert OpeningHours.always().describe() == "mon–sun 00:00-24:00 (Asia/Shanghai)"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"week": {"mon": ["18:00-09:00"]}}, "ends before it starts"),
        ({"week": {"mon": ["9-18"]}}, "must look like 09:00-18:00"),
        ({"week": {"monday": ["09:00-18:00"]}}, "mon"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_hours_are_refused(data: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        OpeningHours.model_validate(data)


async def test_changes_keep_the_number_and_are_audited(res: Resources) -> None:
    created = await res.channels.create(channel(ChannelKind.WEBSITE, name="Web"), by="admin1")
    changed = await res.channels.change(
        created.id, ChannelChange(hours=OpeningHours.always(), name="Website"), by="admin1"
    )
    assert (changed.id, changed.name, changed.hours.is_open(0)) == ("WEB001", "Website", True)
    with pytest.raises(NotFound):
        await res.channels.change("WEB404", ChannelChange(active=False), by="admin1")
