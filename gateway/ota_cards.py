"""A line's card as over-the-air work needs it: its OTA key set, sealed in the SIM stock with
its other keys, and what its product can do (`[ota] card_profiles`).

The engine asks before planning an `ota_update` or `stk_activate` order (as it asks the
counter for the keys of a card to write), so that the plan stays a pure function and holds
the keys sealed. Cards the stock does not know, or knows without KIc/KID, cannot be reached
over the air: the order is refused with the reason.
"""

from __future__ import annotations

from gateway.config import GatewayConfig
from gateway.lines import Line
from gateway.operations import OtaKeys
from gateway.planner import OtaProfile, PlanRefused
from gateway.resources.refusals import ResourceError
from gateway.resources.sim_stock import SimStock


class OtaCards:
    def __init__(self, stock: SimStock, config: GatewayConfig) -> None:
        self.stock = stock
        self.config = config

    async def profile(self, line: Line) -> OtaProfile:
        """The card in ``line``'s phone; `PlanRefused` says why it cannot be reached."""
        if self.config.ota is None:
            raise PlanRefused("no OTA target is configured ([ota]): cards cannot be reached")
        card = await self.stock.find(line.iccid)
        if card is None:
            raise PlanRefused(
                f"card {line.iccid} of number {line.msisdn} is not in the SIM stock: its OTA "
                "keys are not known"
            )
        try:
            keys = await self.stock.card_keys(line.iccid)
        except ResourceError as exc:
            raise PlanRefused(str(exc)) from None
        if keys.kic is None or keys.kid is None:
            raise PlanRefused(
                f"card {line.iccid} has no OTA keys (KIc/KID) on record: it cannot be managed "
                "over the air"
            )
        profile = self.config.ota.profile(card.product)
        return OtaProfile(
            iccid=line.iccid,
            product=profile.product,
            keys=OtaKeys(
                version=profile.key_version,
                algorithm=profile.algorithm,
                kic=keys.kic,
                kid=keys.kid,
            ),
            stk=profile.stk,
        )
