"""Tables of the resources (numbers, SIM stock, customers, operators, channels, audit)."""

SCHEMA = ""
