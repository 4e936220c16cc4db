"""USIM card emulator: a programmable UICC/USIM behind pcscd through vpcd.

`card.UsimCard` is the card (APDU in, response out; contents persisted to a JSON store),
`vpcd.VpcdLink` plugs it into a vpcd reader slot, `pcscd.PrivatePcscd` runs a private pcscd
with vpcd readers for tests, benchmarks and the demo, `cli` is `provgw emulate card`.
See docs/card-emulator.md.
"""
