"""Emulators of third-party hardware: HLR/HSS (MML over SSH), USIM card (APDU over vpcd).

They import nothing from `gateway` or `adapters`: sharing codec code with the adapters would
hide bugs in both.
"""
