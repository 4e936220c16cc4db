"""Cards in the field over the air: SCP80 secured packets carrying RFM commands by SMS, through
the SMS centre's SMPP bind; proven by the card's PoR (docs/ota.md, "The OTA target")."""
