"""Network-element adapters: one sub-package per dialect, all behind the NetworkElement protocol.

Shaped like NAPALM's drivers: `adapters.network_element` is the protocol every dialect
implements, `adapters.transport_failures` the failures they share, and each dialect lives in a
package of its own (`huawei_mml`, `osmo_hlr`, `smpp`). Card stations (`cards`) are targets of
another kind: they write and prove SIM cards, not network records. The gateway builds them all
in `gateway/network.py` (its dialect registry) and sees nothing else of this package.
"""
