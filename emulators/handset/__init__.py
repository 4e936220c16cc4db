"""An emulated mobile station beside the SMSC emulator (see docs/handset.md).

In-process use (tests)::

    phone = Handset("8613800138001", transport, ("127.0.0.1", smsc.handset_port))
    await phone.start()            # TERMINAL PROFILE (the card's menu), attach to the SMSC
    phone.inbox, phone.sent, phone.menu
    await phone.select_menu(1); await phone.send_text("10086", "CXXZ#…")
    await phone.stop()

On its own: `provgw emulate handset --msisdn … --reader …`, or `python -m emulators.handset`.
"""

from emulators.handset.phone import Handset, Received, Sent

__all__ = ["Handset", "Received", "Sent"]
