"""The SMS centre: SMPP for customer notices, its admin API for SMS barring.

`client` is the SMPP 3.4 client (ESME) and `pdu` its codec; `sms_text` encodes texts (GSM 7-bit
or UCS-2, concatenated parts) and `sms_templates` words the notices; `smsc` is the
`NetworkElement` that carries out SendSms and SetSmsBarring. See docs/smsc.md and
docs/dialects/smpp.md.
"""
