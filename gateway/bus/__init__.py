"""The MQTT order bus: upstream systems publish orders, the gateway publishes every order's
status (docs/bus.md).

`topics` names the topics; `connection` is one MQTT 5 session driven by the asyncio loop with
manual acknowledgement; `outbox` is the store's table of messages still to publish (its only
SQL); `status` turns the engine's events into outbox rows and drains them to the broker;
`intake` takes order messages in; `access` is the one call into the REST access policy;
`worker` runs it all with reconnection; `cli` and `bench` are `provgw bus …` and
`provgw bench bus`.
"""
