"""The things a plan's steps are carried out by: network elements and card stations.

One name space (a step names its target), two protocols: network operations go to a
`NetworkElement`, card operations to a `CardStation`. This is the one place that tells them
apart, so the engine, the API and `provgw plan` can treat every step alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from adapters.network_element import CardStation, NetworkElement, NotSupported
from gateway.operations import (
    CARD_OPERATIONS,
    Lookup,
    Reply,
    StepOperation,
    SubscriberView,
)


class UnknownTarget(LookupError):
    """A step names a network element or card station that is not configured."""


class Targets:
    def __init__(
        self,
        network: Mapping[str, NetworkElement],
        stations: Mapping[str, CardStation] | None = None,
        closers: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.network = network
        self.stations = stations or {}
        self.closers = closers  # resources the targets share (an SMPP bind), closed last

    def _ne(self, name: str) -> NetworkElement:
        try:
            return self.network[name]
        except KeyError:
            raise UnknownTarget(f"network element {name} is not configured") from None

    def _station(self, name: str) -> CardStation:
        try:
            return self.stations[name]
        except KeyError:
            raise UnknownTarget(f"card station {name} is not configured") from None

    def describe(self, name: str) -> str:
        """``name (dialect)`` for messages."""
        target = self.network.get(name) or self.stations.get(name)
        return f"{name} ({target.dialect})" if target is not None else name

    def render(self, name: str, op: StepOperation) -> str:
        """The exact command(s) for ``op``; raises `UnknownTarget` or `NotSupported`."""
        if isinstance(op, CARD_OPERATIONS):
            return self._station(name).render(op)
        return self._ne(name).render(op)

    def check(self, name: str, op: StepOperation) -> None:
        """Raise `UnknownTarget` or `NotSupported` unless ``name`` can carry out ``op``."""
        if isinstance(op, CARD_OPERATIONS):
            self._station(name).render(op)
        else:
            self._ne(name).check(op)

    def try_render(self, name: str, op: StepOperation) -> str | None:
        try:
            return self.render(name, op)
        except (UnknownTarget, NotSupported):
            return None

    async def execute(self, name: str, op: StepOperation) -> Reply:
        if isinstance(op, CARD_OPERATIONS):
            return await self._station(name).execute(op)
        return await self._ne(name).execute(op)

    async def read(self, name: str, op: StepOperation, lookup: Lookup) -> SubscriberView:
        if isinstance(op, CARD_OPERATIONS):
            return await self._station(name).read(lookup)
        return await self._ne(name).read(lookup)
