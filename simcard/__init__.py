"""USIM card layer: EF codecs, Milenage, card profiles and models, PC/SC transport, writer.

Stands alone: usable as a library and through `provgw card …` without the gateway.
"""
