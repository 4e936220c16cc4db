"""The order bus against a real Mosquitto (own port, password file, ACL, persistence): orders
in over MQTT 5, statuses out in order, refusals answered and dead-lettered, the broker's and
the gateway's access rules, a broker restart mid-run."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.mosquitto_process import Broker
from gateway.bus.client import BusClient, Followed
from gateway.bus.connection import PublishRefused
from gateway.bus.topics import DEAD_LETTER_PREFIX, STATUS_ALL
from gateway.config import GatewayConfig
from gateway.orders import parse_order
from gateway.store import outbox
from tests.fixtures.mosquitto import USERS, mosquitto_broker, tool
from tests.gateway.orders_factory import KI, OPC
from tests.integration.bus_parts import endpoint, gateway_on_bus, open_account_body, upstream

TERMINAL = {"completed", "failed", "compensated"}


@pytest.fixture
async def broker(tmp_path: Path) -> Any:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


@pytest.fixture
def config(ssh_config: GatewayConfig, tmp_path: Path) -> GatewayConfig:
    return ssh_config.model_copy(update={"secret_key_file": tmp_path / "secret.key"})


async def test_an_order_over_the_bus_is_answered_and_every_status_follows_in_order(
    broker: Broker, config: GatewayConfig
) -> None:
    async with gateway_on_bus(config, broker) as engine, upstream(broker) as crm:
        bodies = [open_account_body(f"bus-{i}", i) for i in range(1, 21)]
        await crm.submit(bodies)
        heard = await asyncio.wait_for(crm.wait(b["order_id"] for b in bodies), 30)
        for order_id, followed in heard.items():
            assert followed.answer is not None
            assert followed.answer["state"] == "accepted"
            assert followed.answer["created"] is True
            states = [s["state"] for s in followed.statuses]
            assert states == ["accepted", "provisioning", "completed"], order_id
            rec = await engine.store.get(order_id)
            assert rec is not None and rec.state.value == "completed"

        # An order from REST (any intake) is announced on the bus too.
        await crm.follow("provgw/status/rest-1")
        await engine.submit(parse_order(open_account_body("rest-1", 99)))
        rest = (await asyncio.wait_for(crm.wait(["rest-1"]), 30))["rest-1"]
        assert [s["state"] for s in rest.statuses] == ["accepted", "provisioning", "completed"]


async def test_the_same_order_sent_again_is_taken_once(
    broker: Broker, config: GatewayConfig
) -> None:
    async with gateway_on_bus(config, broker) as engine, upstream(broker) as crm:
        body = open_account_body("again-1", 7)
        await crm.submit([body])
        first = (await asyncio.wait_for(crm.wait(["again-1"]), 30))["again-1"]
        assert first.final is not None and first.final["state"] == "completed"
        first.done.clear()
        first.answer = None
        await crm.publish(body)
        for _ in range(100):
            if first.answer is not None:
                break
            await asyncio.sleep(0.05)
        assert first.answer is not None
        assert first.answer | {"by": ""} == {
            "order_id": "again-1",
            "state": "completed",
            "created": False,
            "by": "",
        }
        assert await engine.store.counts() == {"completed": 1}


async def test_malformed_schema_and_oversize_messages_are_refused_acknowledged_dead_lettered(
    broker: Broker, config: GatewayConfig, tmp_path: Path
) -> None:
    """Sent with mosquitto_pub (an independent client): each gets a refusal naming the field,
    a copy on the dead-letter topic (secrets masked), and is acknowledged — a gateway that
    reconnects is not handed it again."""
    pub = tool("mosquitto_pub", "mosquitto-clients")
    bad_schema = open_account_body("bad-1", 3) | {"imsi": "12"}
    big = open_account_body("big-1", 4) | {"customer": {"name": "x" * 70_000}}
    messages = {
        "not JSON": b"{this is not json",
        "schema": json.dumps(bad_schema).encode(),
        "oversize": json.dumps(big).encode(),
    }
    async with gateway_on_bus(config, broker) as engine, upstream(broker) as crm:
        statuses: list[dict[str, Any]] = []
        crm.on_status = lambda topic, body: statuses.append(body)
        await crm.follow(DEAD_LETTER_PREFIX + "#")
        await crm.follow("provgw/status/bad-1")
        for payload in messages.values():
            file = tmp_path / "msg"
            file.write_bytes(payload)
            proc = await asyncio.create_subprocess_exec(
                pub, "-p", str(broker.port), "-u", "crm", "-P", "crm-secret", "-V", "mqttv5",
                "-q", "1", "-t", "provgw/orders/OUT001", "-f", str(file),
            )  # fmt: skip
            assert await proc.wait() == 0
        for _ in range(200):
            if len(crm.dead_letters) >= 3 and statuses:
                break
            await asyncio.sleep(0.05)
        copies = [payload for payload, _ in crm.dead_letters]
        assert copies[0] == messages["not JSON"]
        # The copies keep everything but the secrets (Ki and OPc in the clear, here).
        for copy, original in zip(copies[1:], (bad_schema, big), strict=True):
            assert json.loads(copy) == original | {"ki": "****", "opc": "****"}
            assert KI.encode() not in copy and OPC.encode() not in copy
        reasons = [props["reason"] for _, props in crm.dead_letters]
        assert reasons[0].startswith("body: not JSON")
        assert reasons[1].startswith("imsi:")
        assert reasons[2].startswith("body: the message has")
        refused = [s for s in statuses if s.get("order_id") == "bad-1"]
        assert refused and refused[0]["state"] == "refused"
        assert refused[0]["errors"][0]["field"] == "imsi"
        assert await engine.store.counts() == {}
    # Acknowledged: the gateway's session, resumed, holds nothing for it.
    async with gateway_on_bus(config, broker) as engine, upstream(broker) as crm:
        await crm.follow(DEAD_LETTER_PREFIX + "#")
        await asyncio.sleep(1.0)
        assert crm.dead_letters == []


async def test_who_may_publish_the_broker_acl_then_the_access_policy_of_rest(
    broker: Broker, config: GatewayConfig
) -> None:
    config = config.model_copy(update={"access_control": True})
    async with gateway_on_bus(config, broker, seed=True) as engine:
        async with upstream(broker, "crm") as crm:
            # The broker: crm may publish orders for OUT001 only.
            with pytest.raises(PublishRefused):
                await crm.publish(open_account_body("acl-1", 11, channel="OUT002"))
            # The gateway: the topic's channel must be the order's.
            await crm.follow("provgw/status/acl-2")
            sneaky = open_account_body("acl-2", 12, channel="OUT002")
            await crm.publish(sneaky, channel="OUT001")
            sneaked = crm.followed.setdefault("acl-2", Followed("acl-2"))
            sneaked.body = sneaky
            # The access policy REST uses: an operator unknown at the channel is refused.
            await crm.submit([open_account_body("acl-3", 13, operator="mallory")])
            await crm.submit([open_account_body("acl-4", 14, msisdn="13912340014")])
            heard = await asyncio.wait_for(crm.wait(["acl-2", "acl-3", "acl-4"]), 30)
        assert sneaked.answer is not None and sneaked.answer["why"] == "not_allowed"
        assert sneaked.answer["reason"].startswith("channel:")
        refused = heard["acl-3"].answer
        assert refused is not None and refused["state"] == "refused"
        assert refused["why"] == "not_allowed" and "mallory" in refused["reason"]
        assert heard["acl-4"].final is not None and heard["acl-4"].final["state"] == "completed"
        assert await engine.store.counts() == {"completed": 1}
        # An engineer's account reads statuses but may place no order at all.
        async with upstream(broker, "engineer") as engineer:
            with pytest.raises(PublishRefused):
                await engineer.publish(open_account_body("acl-5", 15))


async def test_statuses_from_while_the_broker_was_down_are_published_after_it_returns(
    broker: Broker, config: GatewayConfig
) -> None:
    """Orders complete while the broker is down (their statuses wait in the outbox); orders
    published around a broker restart are all taken (the sender re-sends what the broker did
    not acknowledge, the gateway takes each once); every status reaches a watcher whose
    session the broker kept (persistence on)."""
    watcher_id = "engineer-watch"
    async with gateway_on_bus(config, broker) as engine:
        heard: dict[str, list[str]] = {}

        def note(_topic: str, body: dict[str, Any]) -> None:
            heard.setdefault(body["order_id"], []).append(body["state"])

        watch = endpoint(broker, "engineer", watcher_id)
        watch = dataclasses.replace(watch, clean_start=False, session_expiry_s=600)
        async with BusClient(watch, on_status=note) as watcher:
            await watcher.follow(STATUS_ALL)
        await broker.stop()
        for i in range(1, 11):
            await engine.submit(parse_order(open_account_body(f"down-{i}", 100 + i)))
        await engine.drain()
        worker_outbox = await engine.store.run(outbox.pending)
        assert worker_outbox >= 30, "statuses of orders that ran with the broker down wait"
        await broker.start()
        async with upstream(broker) as crm:
            bodies = [open_account_body(f"around-{i}", 200 + i) for i in range(1, 31)]
            await crm.submit(bodies[:15])
            await asyncio.wait_for(
                crm.wait([b["order_id"] for b in bodies[:15]], resend_after_s=1.0), 60
            )
        await broker.restart()
        # The sender publishes everything again and re-sends what is not answered (Mosquitto
        # drops what comes for a shared subscription before its member is back). The first 15
        # ended before: their answers say so (their statuses went by before it listened).
        async with upstream(broker) as crm:
            await crm.submit(bodies)
            answered = await asyncio.wait_for(
                crm.wait([b["order_id"] for b in bodies], resend_after_s=1.0), 60
            )
        assert all(f.answer is not None for f in answered.values())
        ids = [f"down-{i}" for i in range(1, 11)] + [b["order_id"] for b in bodies]
        for _ in range(300):
            counts = await engine.store.counts()
            if counts.get("completed") == len(ids) and not await engine.store.run(outbox.pending):
                break
            await asyncio.sleep(0.1)
        assert await engine.store.counts() == {"completed": len(ids)}
        async with BusClient(watch, on_status=note) as watcher:
            for _ in range(200):
                if all("completed" in heard.get(i, []) for i in ids):
                    break
                await asyncio.sleep(0.05)
        missing = [i for i in ids if "completed" not in heard.get(i, [])]
        assert missing == []


async def test_provgw_bus_submit_and_watch(
    broker: Broker, config: GatewayConfig, tmp_path: Path
) -> None:
    """The command line: exit codes as `provgw order submit`, statuses as JSON lines."""
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(open_account_body("cli-1", 31)))
    bad.write_text(json.dumps(open_account_body("cli-2", 32) | {"msisdn": "x"}))
    env = dict(os.environ, PROVGW_BUS_PASSWORD=USERS["crm"])
    common = ["--broker", broker.url, "--user", "crm", "--json"]

    async def provgw(*args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "bus", *args, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    async with gateway_on_bus(config, broker):
        watch = await provgw("watch", "--order", "cli-1", *common)
        await asyncio.sleep(1.0)  # subscribed before the order goes out
        submit = await provgw("submit", str(good), *common)
        out, _ = await asyncio.wait_for(submit.communicate(), 60)
        assert submit.returncode == 0
        assert json.loads(out)["state"] == "completed"
        watched = []
        assert watch.stdout is not None
        while not watched or watched[-1] != "completed":
            watched.append(json.loads(await asyncio.wait_for(watch.stdout.readline(), 30))["state"])
        watch.terminate()
        await watch.wait()
        assert watched == ["accepted", "provisioning", "completed"]
        refused = await provgw("submit", str(bad), *common)
        out, _ = await asyncio.wait_for(refused.communicate(), 60)
        assert refused.returncode == 2, "invalid input"
        assert json.loads(out)["errors"][0]["field"] == "msisdn"


async def test_statuses_are_ordered_per_order_and_orders_on_one_number_in_sending_order(
    broker: Broker, config: GatewayConfig
) -> None:
    """An upstream system sends open, suspend, resume, roaming for each of five numbers one
    after another without waiting: they are accepted and run in that order, and every
    order's statuses arrive in the order of its changes."""
    heard: list[tuple[str, str]] = []
    sent: list[dict[str, Any]] = []
    for n in range(1, 6):
        msisdn = f"138{500 + n:08d}"
        base = {"channel": "OUT001", "operator": "clerk1", "msisdn": msisdn}
        sent += [
            open_account_body(f"seq-{n}-open", 500 + n),
            base | {"kind": "suspend", "order_id": f"seq-{n}-suspend"},
            base | {"kind": "resume", "order_id": f"seq-{n}-resume"},
            base | {"kind": "change_roaming", "order_id": f"seq-{n}-roam",
                    "roaming_barring": "BROHPLMN"},
        ]  # fmt: skip
    async with gateway_on_bus(config, broker), upstream(broker) as crm:
        crm.on_status = lambda _topic, body: heard.append((body["order_id"], body["state"]))
        await crm.follow(STATUS_ALL)
        await crm.submit(sent, each=False)
        followed = await asyncio.wait_for(crm.wait(b["order_id"] for b in sent), 60)
    for body in sent:
        states = [s for order_id, s in heard if order_id == body["order_id"]]
        assert states == ["accepted", "provisioning", "completed"], (body["order_id"], states)
        final = followed[body["order_id"]].final
        assert final is not None and final["state"] == "completed"
    ends = [order_id for order_id, state in heard if state == "completed"]
    for n in range(1, 6):
        mine = [o for o in ends if o.startswith(f"seq-{n}-")]
        assert mine == [f"seq-{n}-{k}" for k in ("open", "suspend", "resume", "roam")]
