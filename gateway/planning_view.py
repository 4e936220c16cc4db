"""`provgw plan`: the plan of an order and the exact commands, without touching any NE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from gateway.config import GatewayConfig, HuaweiMmlConfig
from gateway.lines import Line
from gateway.network import build_targets
from gateway.orders import Order, order_msisdns, parse_order
from gateway.planner import Plan, PlanRefused, plan_order
from gateway.routing import Router
from gateway.store import store_for
from gateway.vault import Vault, VaultError

# Rendering needs an adapter per NE but no connection; with no configuration, a stand-in MML
# NE shows what the demo's HLR would receive.
_PREVIEW_NE = HuaweiMmlConfig(name="hlr1", password="preview")  # noqa: S106


@dataclass
class PlanView:
    order: Order
    plan: Plan | None
    refused: str | None
    commands: list[tuple[str, str | None]]

    @classmethod
    async def build(cls, data: object, config: GatewayConfig) -> PlanView:
        order = parse_order(data)
        if not config.network_elements:
            config = config.model_copy(update={"network_elements": [_PREVIEW_NE]})
        lines = await _known_lines(order, config)
        try:
            plan = plan_order(order, lines, config, Router(config), datetime.now(UTC))
        except PlanRefused as refused:
            return cls(order, None, refused.reason, [])
        targets = build_targets(config)
        commands = [
            (
                targets.try_render(s.ne, s.op) or "(no such network element or station)",
                targets.try_render(s.ne, s.compensation) if s.compensation else None,
            )
            for s in plan.steps
        ]
        return cls(order, plan, None, commands)

    def as_dict(self) -> dict[str, Any]:
        steps = []
        if self.plan is not None:
            for step, (command, undo) in zip(self.plan.steps, self.commands, strict=True):
                steps.append(
                    {
                        "index": step.index,
                        "ne": step.ne,
                        "description": step.description,
                        "operation": step.op.model_dump(mode="json"),
                        "command": command,
                        "compensation": undo,
                    }
                )
        return {
            "order_id": self.order.order_id,
            "kind": self.order.kind,
            "refused": self.refused,
            "steps": steps,
            "notes": self.plan.notes if self.plan else [],
        }

    def print(self, console: Console) -> None:
        console.print(f"[bold]{self.order.title}[/bold] — order {self.order.order_id}")
        if self.refused is not None:
            console.print(f"[red]refused:[/red] {self.refused}", highlight=False)
            return
        assert self.plan is not None
        # Commands are printed whole, never folded into a table: they are what an engineer
        # compares with the NE's manual.
        for step, (command, undo) in zip(self.plan.steps, self.commands, strict=True):
            console.print(f"{step.index + 1}. {step.description} [dim]→ {step.ne}[/dim]")
            console.print(f"   {command}", highlight=False, soft_wrap=True)
            console.print(f"   [dim]undo:[/dim] {undo or '—'}", highlight=False, soft_wrap=True)
        for note in self.plan.notes:
            console.print(f"note: {note}", highlight=False)


async def _known_lines(order: Order, config: GatewayConfig) -> dict[str, Line | None]:
    """The lines the order touches, from the gateway's database when there is one."""
    numbers = order_msisdns(order)
    if config.database_url is None and not config.database.exists():
        return dict.fromkeys(numbers)
    try:
        vault = Vault.from_environment(config.secret_key_file)
    except VaultError:
        return dict.fromkeys(numbers)
    async with store_for(config.database_url or config.database, vault) as store:
        return await store.lines(numbers)
