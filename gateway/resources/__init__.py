"""The operator's resources and parties: numbers, SIM stock, customers, operators and channels.

Their tables live in the gateway's store (one database, so an order's completion and the
number it takes into use commit together); their tables are in `gateway.store.migrations`.
"""
