"""The service port follows the outage fault: down at once, up again by a task, alarms kept."""

from __future__ import annotations

import asyncio

from emulators.alarms import Severity
from emulators.hlr.faults import Faults
from emulators.service import ServicePort


class Listener:
    """What an emulator's start/stop would do, counted; ``refuse`` makes listening fail."""

    def __init__(self) -> None:
        self.listening = True
        self.refuse: OSError | None = None

    def stop(self) -> None:
        self.listening = False

    async def start(self) -> None:
        await asyncio.sleep(0)
        if self.refuse is not None:
            raise self.refuse
        self.listening = True


async def test_outage_stops_at_once_and_listens_again_after_it() -> None:
    faults, listener = Faults(), Listener()
    port = ServicePort(faults, stop=listener.stop, start=listener.start, clock=lambda: 5.0)
    port.attach()
    faults.update(outage=True)
    assert (port.up, listener.listening, port.changed_at) == (False, False, 5.0)
    assert [a.severity for a in port.alarms.active()] == [Severity.CRITICAL]
    faults.update(outage=False)
    await port.settled()
    assert (port.up, listener.listening, port.alarms.active()) == (True, True, [])
    await port.detach()


async def test_a_port_that_cannot_open_again_stays_down_with_a_critical_alarm() -> None:
    faults, listener = Faults(), Listener()
    port = ServicePort(faults, stop=listener.stop, start=listener.start)
    port.attach()
    faults.update(outage=True)
    listener.refuse = OSError(98, "Address already in use")
    faults.update(outage=False)
    await port.settled()
    assert port.up is False
    assert [(a.key, a.severity) for a in port.alarms.active()] == [("listen", Severity.CRITICAL)]
    assert "Address already in use" in port.alarms.active()[0].text
    listener.refuse = None
    faults.update(latency_ms=0)  # any change tries again
    await port.settled()
    assert port.up is True and port.alarms.active() == []
    await port.detach()


async def test_an_outage_with_a_duration_ends_by_itself() -> None:
    faults, listener = Faults(), Listener()
    port = ServicePort(faults, stop=listener.stop, start=listener.start)
    port.attach()
    ended = asyncio.Event()
    faults.watch(lambda: None if faults.outage else ended.set())
    faults.update(outage=True, outage_s=0.01)
    assert port.up is False
    await asyncio.wait_for(ended.wait(), 5)
    await port.settled()
    assert port.up is True and faults.outage is False
    await port.detach()
