"""SNMP benchmark: the CPU one poll of one NE costs the gateway's manager (and the agent).

    .venv/bin/python bench/snmp_poll.py [--nes 50] [--rounds 20] [--alarms 0] [--json]

The agents (one per NE, the emulators' `SnmpAgent`) run in a child process, as NEs run on
other hosts; the manager polls every NE once per round, all NEs at once as its interval
timers would, and the CPU time of each process is divided by the polls made. One poll is what
the manager spends per NE per interval, so an interval of I seconds over N NEs costs
N x (CPU per poll) / I of a core. ``--alarms`` gives every agent that many active alarms (one
GETBULK covers up to eight). The manager's fixed cost — pysnmp's timer ticking with no poll
due — is measured over a quiet second and reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from adapters.snmp import SnmpManager, SnmpSettings
from emulators.alarms import Condition, Severity
from emulators.hlr.faults import Faults
from emulators.service import ServicePort
from emulators.snmp import SnmpAgent, SystemInfo
from emulators.snmp.mib import PRODUCT_HLR


async def serve_agents(count: int, alarms: int) -> None:
    """The child: ``count`` agents on free ports, their ports as one JSON line, then wait."""

    async def listen() -> None:  # the agents' service ports never go down here
        return None

    agents = []
    for number in range(count):
        service = ServicePort(Faults(), stop=lambda: None, start=listen)
        service.alarms.sync(
            {f"a{i}": Condition(Severity.MINOR, f"bench alarm {i}") for i in range(alarms)}
        )
        system = SystemInfo("bench agent", PRODUCT_HLR, f"NE{number:03d}")
        agent = SnmpAgent(system, service, port=0)
        await agent.start()
        agents.append(agent)
    print(json.dumps([agent.port for agent in agents]), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until EOF


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(args: argparse.Namespace, ports: list[int], child: int) -> dict[str, Any]:
    targets = {f"ne{n:03d}": SnmpSettings(host="127.0.0.1", port=p) for n, p in enumerate(ports)}
    manager = SnmpManager(targets, lambda reading: None)
    await manager.start(poll=False)
    try:
        for ne in targets:  # warm up, and check that every NE reads as asked
            reading = await manager.poll(ne)
            expected = "degraded" if args.alarms else "up"
            assert reading is not None and reading.health == expected, reading
        idle_cpu = time.process_time()
        await asyncio.sleep(1.0)
        idle_cpu = time.process_time() - idle_cpu
        manager_cpu, agent_cpu, wall = time.process_time(), cpu_seconds(child), time.perf_counter()
        for _ in range(args.rounds):
            await asyncio.gather(*(manager.poll(ne) for ne in targets))
        wall = time.perf_counter() - wall
        manager_cpu = time.process_time() - manager_cpu
        agent_cpu = cpu_seconds(child) - agent_cpu
    finally:
        await manager.stop()
    polls = args.rounds * len(targets)
    return {
        "nes": len(targets),
        "rounds": args.rounds,
        "alarms_per_ne": args.alarms,
        "polls": polls,
        "manager_cpu_ms_per_poll": round(manager_cpu / polls * 1000, 3),
        "agent_cpu_ms_per_poll": round(agent_cpu / polls * 1000, 3),
        "polls_per_s": round(polls / wall),
        "manager_idle_cpu_ms_per_s": round(idle_cpu * 1000, 2),
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nes", type=int, default=50, help="NEs (agents) polled")
    parser.add_argument("--rounds", type=int, default=20, help="polls of every NE measured")
    parser.add_argument("--alarms", type=int, default=0, help="active alarms per agent")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--agents", action="store_true", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.agents:
        asyncio.run(serve_agents(args.nes, args.alarms))
        return
    command = [sys.executable, __file__, "--agents", "--nes", str(args.nes)]
    child = subprocess.Popen(
        [*command, "--alarms", str(args.alarms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ports = json.loads(child.stdout.readline())
        result = asyncio.run(measure(args, ports, child.pid))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['polls']} polls of {result['nes']} NEs ({result['alarms_per_ne']} alarms each):"
        f" manager {result['manager_cpu_ms_per_poll']} ms CPU per poll,"
        f" agent {result['agent_cpu_ms_per_poll']} ms per poll,"
        f" {result['polls_per_s']} polls/s; manager idle"
        f" {result['manager_idle_cpu_ms_per_s']} ms CPU per second"
    )


if __name__ == "__main__":
    main()
