"""The HLR emulator fixtures of the integration tests (`hlr`, `ssh_config`), for the card
agent's end-to-end tests."""

from tests.integration.conftest import hlr, ssh_config

__all__ = ["hlr", "ssh_config"]
