"""The ``osmo-hlr-ctrl`` dialect: the Osmocom HLR through its CTRL interface.

`mapping` says what each operation becomes (scripts of CTRL commands, no I/O); `osmo_ctrl` is
the `NetworkElement` that runs them; `ctrl`, `ipa` and `gsup` are the protocols underneath
(GSUP only for authentication vectors). See docs/dialects/osmo-hlr.md.
"""
