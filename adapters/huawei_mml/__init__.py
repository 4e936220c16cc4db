"""The ``huawei-mml`` dialect: a Huawei-style HLR/HSS, MML over SSH.

`mml` renders operations into MML and parses its replies (no I/O); `mml_ssh` is the
`NetworkElement`, a pool of logged-in MML sessions. See docs/dialects/huawei-mml.md.
"""
