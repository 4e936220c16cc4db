"""Card stations: where blank SIM cards are written and proven against the network.

`card_station` holds the station logic over any `CardAccess` (a PC/SC reader on the gateway's
machine); `card_agent` is the `CardAccess` of a reader beside a clerk's PC, served by a card
agent. Not network elements: they implement `adapters.network_element.CardStation`.
"""
