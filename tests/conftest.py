"""Fixtures shared across test packages.

The real PC/SC chain (a private pcscd with emulated cards) is session-scoped and may exist only
once per process — libpcsclite reads its socket path once — so it is registered here, once,
rather than imported into several conftest files (which would make one instance per package).
"""

pytest_plugins = ["tests.fixtures.pcsc"]
