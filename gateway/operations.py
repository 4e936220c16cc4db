"""Vendor-neutral network-element operations, their replies, and the subscriber view.

An operation says *what* must change in a network element, never *how*: each adapter renders it
into its own dialect (Huawei MML, Osmocom CTRL …) and parses the NE's answer into one `Reply`.
Adapters may import this module and `gateway.identifiers`, nothing else of the gateway.

Every operation can also tell, from a `SubscriberView` read back from the NE, whether its effect
is already in place (`applied_in`). The engine uses that to reconcile a step whose outcome is
unknown after a crash or a dropped connection, instead of blindly sending it again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from gateway.identifiers import E164, HexKey, Iccid, Imsi, Secret


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BarIncoming(StrEnum):
    """Operator-determined barring of incoming calls (ODBIC)."""

    NONE = "NOBIC"
    ALL = "BAIC"
    WHEN_ROAMING = "BICROAM"


class BarOutgoing(StrEnum):
    """Operator-determined barring of outgoing calls (ODBOC): the long-distance class, C7.1."""

    NONE = "NOBOC"
    ALL = "BAOC"
    INTERNATIONAL = "BOIC"
    INTERNATIONAL_EXCEPT_HOME = "BOICEXHC"
    WHEN_ROAMING = "BOCROAM"


class BarRoaming(StrEnum):
    """Operator-determined roaming barring (ODBROAM), C7.3."""

    NONE = "NOBAR"
    OUTSIDE_HOME_PLMN = "BROHPLMN"
    OUTSIDE_HOME_COUNTRY = "BROHPLMNC"
    DATA_OUTSIDE_HOME_PLMN = "BROHPLMNCGPRS"


class ForwardingKind(StrEnum):
    """Call-forwarding conditions, C7.2."""

    UNCONDITIONAL = "CFU"
    BUSY = "CFB"
    NO_REPLY = "CFNRY"
    NOT_REACHABLE = "CFNRC"


class NetworkAccess(StrEnum):
    """Network access mode: which core domains the subscriber may attach to."""

    BOTH = "BOTH"
    CS_ONLY = "MSC"
    PS_ONLY = "SGSN"


class CugRestriction(StrEnum):
    """Intra-CUG restriction of one membership (TS 22.085 §1.2): calls *within* the group."""

    NONE = "NONE"
    INCOMING_BARRED = "ICB"  # the member receives no calls from other members
    OUTGOING_BARRED = "OCB"  # the member calls no other member


class CugAccess(StrEnum):
    """Inter-CUG access (TS 22.085 §1.2): calls across the group's edge. Without outgoing
    access a member can call only the group; without incoming access only the group can call
    the member."""

    CUG_ONLY = "CUGONLY"
    OUTGOING = "OA"
    INCOMING = "IA"
    BOTH = "OAIA"


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


Apn = Annotated[
    str,
    BeforeValidator(_lower),
    Field(
        max_length=63,
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$",
        description="APN network identifier (TS 23.003 §9.1.1): labels of letters, digits and "
        "hyphens joined by dots, at most 63 characters; compared without regard to case",
    ),
]
InterlockCode = Annotated[
    str,
    BeforeValidator(_upper),
    Field(
        pattern=r"^[0-9A-F]{8}$",
        description="CUG interlock code: the 4 octets MAP carries (TS 29.002 CUG-Interlock), "
        "as 8 hexadecimal digits",
    ),
]
PttGroup = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="push-to-talk group (the group order's)"),
]
BitRate = Annotated[
    int,
    Field(ge=1, le=4_294_967_295, description="bits per second (Diameter Unsigned32)"),
]


IMS_APN = "ims"
"""The well-known APN of IMS (GSMA IR.92 §4.3): VoLTE's signalling runs on it."""


class ApnProfile(_Model):
    """One EPS PDN context a subscriber may open (TS 29.272 APN-Configuration), as far as a
    provisioning order sets it: which context, which APN, its QoS class and its APN-AMBR.

    Huawei's HSS keeps the same in a PDN context of the subscriber's EPS data (``CNTXID``,
    with APN, QCI and the maximum requested bandwidths); the ARP and the PDN type stay at the
    HSS's defaults. ``qci`` 1–9 are the standardised classes (TS 23.203 table 6.1.7), 128–254
    operator-specific ones; default bearers of an internet APN use 9, the IMS APN 5.
    """

    context_id: int = Field(ge=1, le=255)
    apn: Apn
    qci: int = Field(9, ge=1, le=254)
    ambr_ul_bps: BitRate
    ambr_dl_bps: BitRate


class Cug(_Model):
    """A subscriber's membership of a closed user group (TS 22.085): the index the network
    knows the group by for this subscriber, the interlock code that identifies the group
    network-wide, and what the member may do within and across the group.

    MAP sends inter-CUG access per basic service (CUG-Feature); provgw keeps it with the
    membership that brought it, because a group product sets both together. The default,
    ``BOTH``, lets a member call and be called outside the group as before — the normal
    choice when a CUG serves a push-to-talk group rather than a closed company switchboard.
    """

    index: int = Field(ge=0, le=32767, description="CUG index (TS 29.002 CUG-Index)")
    interlock: InterlockCode
    restriction: CugRestriction = CugRestriction.NONE
    access: CugAccess = CugAccess.BOTH


# -- cards over the air (SCP80 + RFM, through the SMS centre) -------------------------------


class OtaKeys(_Model):
    """A card's OTA key set, from the SIM vendor's file: its version (KVN 1-15) and KIc/KID.
    ``aes``: AES-128 ciphering and CMAC; ``3des``: two-key 3DES CBC and CBC-MAC. The keys are
    secrets like Ki: never printed, sealed at rest."""

    version: int = Field(ge=1, le=15)
    algorithm: Literal["aes", "3des"] = "aes"
    kic: HexKey
    kid: HexKey


class OtaCard(_Model):
    """The card an OTA operation is for: its ICCID (the OTA counters are kept per card and key
    set), the number its SMS go to, and its key set."""

    iccid: Iccid
    msisdn: E164
    keys: OtaKeys


class AccessTechnology(StrEnum):
    """Radio access technologies of a PLMN selector entry (TS 31.102 §4.2.5)."""

    UTRAN = "utran"
    E_UTRAN = "e-utran"
    NG_RAN = "ng-ran"
    GSM = "gsm"
    GSM_COMPACT = "gsm-compact"


class PlmnEntry(_Model):
    """A network of a roaming list; ``technologies`` None means every one (as pySim writes),
    an empty tuple none named."""

    mcc: str = Field(pattern=r"^[0-9]{3}$")
    mnc: str = Field(pattern=r"^[0-9]{2,3}$")
    technologies: tuple[AccessTechnology, ...] | None = None

    @field_validator("technologies")
    @classmethod
    def _canonical(
        cls, value: tuple[AccessTechnology, ...] | None
    ) -> tuple[AccessTechnology, ...] | None:
        """One order and no repeats, so that the same entry read back compares equal."""
        return None if value is None else tuple(t for t in AccessTechnology if t in value)


class SpnFile(_Model):
    """EF.SPN: the name a phone shows for the operator, and when."""

    file: Literal["spn"] = "spn"
    name: str = Field(max_length=16)
    show_in_home: bool = True
    hide_when_roaming: bool = True


class RoamingListFile(_Model):
    """EF.OPLMNwAcT: the operator's preferred networks abroad, in order (12 fit the file)."""

    file: Literal["oplmnwact"] = "oplmnwact"
    networks: tuple[PlmnEntry, ...] = Field(max_length=12)


class SmsCentreFile(_Model):
    """EF.SMSP, first record: the SMS centre address the phone sends through."""

    file: Literal["smsp"] = "smsp"
    address: E164


class MenuEntry(_Model):
    """An STK menu item and the text message it sends."""

    id: int = Field(ge=1, le=255)
    label: str = Field(min_length=1, max_length=40)
    destination: str = Field(pattern=r"^[0-9]{3,20}$")
    text: str = Field(min_length=1, max_length=160)


class StkMenuFile(_Model):
    """The operator's STK menu (the card's menu file): title and items."""

    file: Literal["stk_menu"] = "stk_menu"
    title: str = Field(min_length=1, max_length=40)
    items: tuple[MenuEntry, ...] = Field(min_length=1, max_length=7)


CardFile = Annotated[
    SpnFile | RoamingListFile | SmsCentreFile | StkMenuFile, Field(discriminator="file")
]
"""The content of one card file, vendor-neutral: what an OTA update writes, what a read gives."""
CardFileName = Literal["spn", "oplmnwact", "smsp", "stk_menu"]


class CardLookup(_Model):
    """Which card to read over the air, and which of its files."""

    card: OtaCard
    files: tuple[CardFileName, ...] = Field(min_length=1)


class CardView(_Model):
    """Files of a card as read over the air (only those asked for), by name."""

    iccid: Iccid
    files: dict[CardFileName, CardFile] = Field(default_factory=dict)


class Lookup(_Model):
    """How to find the subscriber an operation is about: by IMSI or by MSISDN (E.164); for an
    OTA operation also the card and the files to read back (``card``)."""

    imsi: Imsi | None = None
    msisdn: E164 | None = None
    card: CardLookup | None = None


class Lock(_Model):
    """The suspend/resume lock (MOD LCK): incoming, outgoing, and data (GPRS/EPS)."""

    incoming: bool = False
    outgoing: bool = False
    data: bool = False


class SubscriberView(_Model):
    """What an NE holds about one subscriber, as far as provisioning cares.

    ``exists`` is the subscriber record; ``auth_loaded`` the authentication data, which can
    exist without a subscriber (after LoadAuth, before CreateSubscriber).
    """

    exists: bool
    auth_loaded: bool = False
    imsi: Imsi | None = None
    msisdn: E164 | None = None
    template_id: int | None = None
    lock: Lock = Lock()
    bar_incoming: BarIncoming = BarIncoming.NONE
    bar_outgoing: BarOutgoing = BarOutgoing.NONE
    bar_roaming: BarRoaming = BarRoaming.NONE
    forwarding: dict[ForwardingKind, E164] = Field(default_factory=dict)
    data_enabled: bool = False
    network_access: NetworkAccess = NetworkAccess.BOTH
    sms_barred: bool = False  # at the SMS centre
    sms_mo: bool = True  # teleservice SMS-MO (TS22): may send
    sms_mt: bool = True  # teleservice SMS-MT (TS21): may receive
    apns: tuple[ApnProfile, ...] = ()  # EPS PDN contexts, by context id
    ims: bool = False  # an IMS subscription
    volte: bool = False  # the IMS subscription's VoLTE service flag
    cugs: tuple[Cug, ...] = ()  # by CUG index
    ptt_group: PttGroup | None = None  # push-to-talk (和对讲) on, in this group
    card: CardView | None = None  # files read over the air (OTA lookups only)

    @field_validator("apns")
    @classmethod
    def _apns_in_order(cls, value: tuple[ApnProfile, ...]) -> tuple[ApnProfile, ...]:
        return tuple(sorted(value, key=lambda p: p.context_id))

    @field_validator("cugs")
    @classmethod
    def _cugs_in_order(cls, value: tuple[Cug, ...]) -> tuple[Cug, ...]:
        return tuple(sorted(value, key=lambda c: c.index))


ABSENT = SubscriberView(exists=False)


class LoadAuth(_Model):
    """Load authentication data (Ki, OPc) into the AuC for an IMSI."""

    op: Literal["load_auth"] = "load_auth"
    imsi: Imsi
    ki: HexKey
    opc: HexKey | None = None
    algorithm: Literal["milenage", "comp128v1", "comp128v2", "comp128v3"] = "milenage"
    k4sno: int = Field(0, ge=0, le=255, description="transport key index; 0 = Ki in clear")

    def lookup(self) -> Lookup:
        return Lookup(imsi=self.imsi)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.auth_loaded


class RemoveAuth(_Model):
    """Remove the authentication data of an IMSI."""

    op: Literal["remove_auth"] = "remove_auth"
    imsi: Imsi

    def lookup(self) -> Lookup:
        return Lookup(imsi=self.imsi)

    def applied_in(self, view: SubscriberView) -> bool:
        return not view.auth_loaded


class CreateSubscriber(_Model):
    """Create a subscriber record from a service template (the product's)."""

    op: Literal["create_subscriber"] = "create_subscriber"
    imsi: Imsi
    msisdn: E164
    template_id: int = Field(ge=0)

    def lookup(self) -> Lookup:
        return Lookup(imsi=self.imsi)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.msisdn == self.msisdn


class RemoveSubscriber(_Model):
    """Remove a subscriber record (its authentication data is a separate RemoveAuth)."""

    op: Literal["remove_subscriber"] = "remove_subscriber"
    imsi: Imsi

    def lookup(self) -> Lookup:
        return Lookup(imsi=self.imsi)

    def applied_in(self, view: SubscriberView) -> bool:
        return not view.exists


class SetLock(_Model):
    """Suspend (lock) or resume (unlock) a subscriber: incoming, outgoing and data."""

    op: Literal["set_lock"] = "set_lock"
    msisdn: E164
    lock: Lock

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.lock == self.lock


class SetIncomingBarring(_Model):
    op: Literal["set_incoming_barring"] = "set_incoming_barring"
    msisdn: E164
    barring: BarIncoming

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.bar_incoming == self.barring


class SetOutgoingBarring(_Model):
    op: Literal["set_outgoing_barring"] = "set_outgoing_barring"
    msisdn: E164
    barring: BarOutgoing

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.bar_outgoing == self.barring


class SetRoamingBarring(_Model):
    op: Literal["set_roaming_barring"] = "set_roaming_barring"
    msisdn: E164
    barring: BarRoaming

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.bar_roaming == self.barring


class RegisterForwarding(_Model):
    op: Literal["register_forwarding"] = "register_forwarding"
    msisdn: E164
    kind: ForwardingKind
    forward_to: E164

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.forwarding.get(self.kind) == self.forward_to


class EraseForwarding(_Model):
    op: Literal["erase_forwarding"] = "erase_forwarding"
    msisdn: E164
    kind: ForwardingKind

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and self.kind not in view.forwarding


class SetData(_Model):
    """Provision or withdraw packet data (GPRS/EPS) with the product's data template."""

    op: Literal["set_data"] = "set_data"
    msisdn: E164
    enabled: bool
    template_id: int = Field(1, ge=0)

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.data_enabled == self.enabled


class SetNetworkAccess(_Model):
    op: Literal["set_network_access"] = "set_network_access"
    msisdn: E164
    mode: NetworkAccess

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.network_access == self.mode


class ChangeMsisdn(_Model):
    """Give a subscriber a new number (C2); the old one goes back to the pool."""

    op: Literal["change_msisdn"] = "change_msisdn"
    msisdn: E164
    new_msisdn: E164

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.new_msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists


class SwapImsi(_Model):
    """Move a subscriber onto a new card's IMSI (C3); the new IMSI's auth data must be loaded."""

    op: Literal["swap_imsi"] = "swap_imsi"
    msisdn: E164
    new_imsi: Imsi

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.imsi == self.new_imsi


class SetSmsBarring(_Model):
    """Bar (or unbar) SMS to and from a number at the SMS centre; undone by the opposite."""

    op: Literal["set_sms_barring"] = "set_sms_barring"
    msisdn: E164
    barred: bool

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.sms_barred == self.barred


class SendSms(_Model):
    """A notification to the customer. Never compensated; ``reference`` is stable per
    notification (order id and step), so sending it again after an unknown outcome is safe
    with an SMSC that honours it."""

    op: Literal["send_sms"] = "send_sms"
    msisdn: E164
    text: str = Field(min_length=1, max_length=1000)
    sender: str = Field(min_length=1, max_length=16)
    reference: str = Field(min_length=1, max_length=64)

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return False


# -- services a product or a group implies (tariff change, C7.4, 和对讲) ----------------------
#
# Each is one command on an HLR/HSS, looked up by number, and undone by the same operation
# with the line's previous value (`gateway.lines.Line.network` holds it). An NE that cannot
# hold the service refuses the operation with `NotSupported` from `check`, so an order needing
# it is refused before anything is sent.


class ChangeTemplate(_Model):
    """Move a subscriber onto another HLR service template: the product's ``template_id``
    (C8 tariff change).

    What a template change resets differs between HLRs. On a Huawei HLR a template is the
    service data a subscriber is created with (``ADD TPLSUB``); operators' gateways have been
    seen to change templates by removing the subscriber and creating it again, which resets
    every individual setting to the template's (and drops EPS, IMS and CUG data) — not what
    this operation does. Here ``MOD TPLSUB`` changes which template the subscription refers to
    — and with it what the HSS takes from the template and provisioning never sets one by one
    (the bundle of basic services, CAMEL triggers, charging characteristics) — and **keeps
    every value provisioning sets individually**: the lock, barring classes, forwarding,
    network access mode, packet data, SMS teleservices, EPS PDN contexts, IMS and VoLTE, CUGs
    and push-to-talk. The view compares ``template_id`` only.

    How a process uses it: first, so that the product's individual steps (packet data, APN
    profiles, VoLTE, SMS) follow from the new template; its compensation is
    ``ChangeTemplate(msisdn, line.network.template_id)`` — exact, because nothing individual
    changed. An NE without templates (osmo-hlr) refuses it; a tariff change there can only
    carry the individual steps.
    """

    op: Literal["change_template"] = "change_template"
    msisdn: E164
    template_id: int = Field(ge=1, le=9999)

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.template_id == self.template_id


class AddApn(_Model):
    """Give a subscriber an EPS PDN context (4G data on one APN): the product's
    `ApnProfile`. The first context makes the subscriber's EPS data; the HSS refuses a
    context id or an APN the subscriber already has.

    How a process uses it: after packet data is on (`SetData`), one step per profile of the
    product the line lacks; compensation ``RemoveApn(msisdn, profile.context_id)``. To change
    a profile, remove the old one and add the new one (two steps, each with its compensation).
    The IMS APN must be there before VoLTE is switched on. A product without data has no
    profiles: a tariff change to it removes the line's (after VoLTE is off), then data.
    """

    op: Literal["add_apn"] = "add_apn"
    msisdn: E164
    profile: ApnProfile

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and self.profile in view.apns


class RemoveApn(_Model):
    """Take one EPS PDN context away. The HSS refuses the last one while VoLTE is on (VoLTE
    needs EPS data): switch VoLTE off first.

    Compensation: ``AddApn(msisdn, <the profile the line had>)`` from ``line.network.apns``.
    """

    op: Literal["remove_apn"] = "remove_apn"
    msisdn: E164
    context_id: int = Field(ge=1, le=255)

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and all(p.context_id != self.context_id for p in view.apns)


class SetImsSubscription(_Model):
    """Create (``enabled``) or remove the subscriber's IMS subscription in the HSS: its
    private and public identities, derived by the HSS from the IMSI and the number. Which IMS
    template it is made from is the NE's matter (the dialect's), not the order's, so that
    removing and creating it again gives back the same subscription. Removing it is refused
    while VoLTE is on.

    How a process uses it: VoLTE on is ``AddApn`` (the IMS APN, if the line lacks it) →
    ``SetImsSubscription(True)`` (if ``not line.network.ims``) → ``SetVolte(True)``; off is the
    reverse, and may stop after ``SetVolte(False)`` (the IMS subscription can stay for other
    IMS services). Compensation: the same operation with ``enabled`` flipped.
    """

    op: Literal["set_ims_subscription"] = "set_ims_subscription"
    msisdn: E164
    enabled: bool

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.ims == self.enabled


class SetVolte(_Model):
    """Switch the IMS subscription's VoLTE service flag (C7.4). On needs an IMS subscription
    and EPS data (a PDN context); the HSS refuses it otherwise. Compensation: the opposite."""

    op: Literal["set_volte"] = "set_volte"
    msisdn: E164
    enabled: bool

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.volte == self.enabled


class AddCug(_Model):
    """Make the subscriber a member of a closed user group (和对讲 member added). The HSS
    refuses a CUG index or an interlock code the subscriber already has, and an eleventh CUG
    (TS 22.085: ten at most).

    How a process uses it: member add is ``AddCug`` → ``SetPushToTalk(group)``; compensation
    ``RemoveCug(msisdn, cug.index)``.
    """

    op: Literal["add_cug"] = "add_cug"
    msisdn: E164
    cug: Cug

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and self.cug in view.cugs


class RemoveCug(_Model):
    """End the subscriber's membership of the CUG with this index (和对讲 member removed:
    ``SetPushToTalk(None)`` → ``RemoveCug``). Compensation: ``AddCug`` with the membership
    from ``line.network.cugs``."""

    op: Literal["remove_cug"] = "remove_cug"
    msisdn: E164
    index: int = Field(ge=0, le=32767)

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and all(c.index != self.index for c in view.cugs)


class SetPushToTalk(_Model):
    """The push-to-talk (和对讲) service: on in ``group``, or off (``None``). Setting another
    group moves the subscriber; one group at a time, as the group product sells it.

    Compensation: ``SetPushToTalk(msisdn, line.network.ptt_group)`` — the previous group, or
    off.
    """

    op: Literal["set_push_to_talk"] = "set_push_to_talk"
    msisdn: E164
    group: PttGroup | None

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and view.ptt_group == self.group


class SetSmsService(_Model):
    """The subscriber's SMS service in the HLR (C7.4 "SMS on/off"): the teleservices SMS-MO
    (TS22, may send) and SMS-MT (TS21, may receive).

    Why the HLR and not the SMS centre: SMS is a subscription the HLR holds. Without TS22 the
    MSC refuses every message the handset sends, to whatever SMS centre; without TS21 the HLR
    refuses routing information to any SMS centre that asks (SRI-for-SM), including other
    operators'. `SetSmsBarring` at our SMS centre stops only what our centre delivers, so it
    remains what it is for: a temporary bar while a line is suspended.

    Compensation: ``SetSmsService(msisdn, line.network.sms_mo, line.network.sms_mt)``. An NE
    without teleservice data (osmo-hlr) refuses it; there, barring at the SMS centre is the
    nearest, weaker, substitute, and a process that uses it should say so to the clerk.
    """

    op: Literal["set_sms_service"] = "set_sms_service"
    msisdn: E164
    mo: bool
    mt: bool

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.msisdn)

    def applied_in(self, view: SubscriberView) -> bool:
        return view.exists and (view.sms_mo, view.sms_mt) == (self.mo, self.mt)


class OtaUpdate(_Model):
    """Change files of a card in the field over the air: RFM commands in secured packets
    (SCP80) by SMS, through the SMS centre and the subscriber's phone. Proven by the card's
    PoR; an unknown outcome (no PoR in time) is settled by reading the files back."""

    op: Literal["ota_update"] = "ota_update"
    card: OtaCard
    files: tuple[CardFile, ...] = Field(min_length=1, max_length=4)

    @field_validator("files")
    @classmethod
    def _once_each(cls, value: tuple[CardFile, ...]) -> tuple[CardFile, ...]:
        names = [f.file for f in value]
        if len(set(names)) != len(names):
            raise ValueError("each file at most once per update")
        return value

    def lookup(self) -> Lookup:
        names = tuple(f.file for f in self.files)
        return Lookup(msisdn=self.card.msisdn, card=CardLookup(card=self.card, files=names))

    def applied_in(self, view: SubscriberView) -> bool:
        return view.card is not None and all(view.card.files.get(f.file) == f for f in self.files)


class OtaRead(_Model):
    """Read files of a card over the air (the reply's fields hold them, as JSON). Read-only:
    simply run again when its outcome is unknown."""

    op: Literal["ota_read"] = "ota_read"
    card: OtaCard
    files: tuple[CardFileName, ...] = Field(min_length=1)

    def lookup(self) -> Lookup:
        return Lookup(msisdn=self.card.msisdn, card=CardLookup(card=self.card, files=self.files))

    def applied_in(self, view: SubscriberView) -> bool:
        return False


NetworkOperation = (
    LoadAuth
    | RemoveAuth
    | CreateSubscriber
    | RemoveSubscriber
    | SetLock
    | SetIncomingBarring
    | SetOutgoingBarring
    | SetRoamingBarring
    | RegisterForwarding
    | EraseForwarding
    | SetData
    | SetNetworkAccess
    | ChangeMsisdn
    | SwapImsi
    | SetSmsBarring
    | SendSms
    | ChangeTemplate
    | AddApn
    | RemoveApn
    | SetImsSubscription
    | SetVolte
    | AddCug
    | RemoveCug
    | SetPushToTalk
    | SetSmsService
    | OtaUpdate
    | OtaRead
)
Operation = Annotated[NetworkOperation, Field(discriminator="op")]
"""What a network element executes."""


class Outcome(StrEnum):
    """How the engine must treat a reply."""

    OK = "ok"
    TRANSIENT = "transient"  # retry later: timeout, disconnect, NE busy
    PERMANENT = "permanent"  # the NE refused: compensate
    UNKNOWN = "unknown"  # the command may or may not have run: reconcile by reading back


class Reply(_Model):
    """One NE reply in vendor-neutral form."""

    outcome: Outcome
    code: str = "0"
    text: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    command: str = ""  # the command as sent, secrets masked
    response: str = ""  # the raw reply, secrets masked
    elapsed_ms: float = 0.0
    unreachable: bool = False
    """A transport failure, not the NE's word: nothing could be sent (connection refused,
    session lost, login failing) or no answer came in time. The engine treats it as an outage
    of the NE — the order waits, its retry budget unspent — and the NE's circuit breaker counts
    it. Set only with TRANSIENT (not sent) or UNKNOWN (sent, no answer)."""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


class AuthVector(_Model):
    """One UMTS authentication vector from an NE's authentication centre (hex strings).

    The gateway challenges a freshly written card with RAND/AUTN; the order is proven when
    the card's RES equals XRES — the card and the network hold the same keys.
    """

    rand: str = Field(pattern=r"^[0-9a-f]{32}$")
    autn: str = Field(pattern=r"^[0-9a-f]{32}$")
    xres: str = Field(pattern=r"^[0-9a-f]{8,32}$")
    ck: str = Field(pattern=r"^[0-9a-f]{32}$")
    ik: str = Field(pattern=r"^[0-9a-f]{32}$")


class WriteCard(_Model):
    """Personalise a blank USIM at a card station, read it back and prove its keys locally.

    Executed by a card station (a PC/SC reader at the counter), not by a network element.
    """

    op: Literal["write_card"] = "write_card"
    iccid: Iccid
    imsi: Imsi
    ki: HexKey
    opc: HexKey
    msisdn: E164 | None = None
    spn: str = Field("", max_length=16)
    adm1: Secret

    def lookup(self) -> Lookup:
        return Lookup(imsi=self.imsi)

    def applied_in(self, view: SubscriberView) -> bool:
        # A station reads the card in its reader back as a view: the card holds this IMSI.
        return view.exists and view.imsi == self.imsi


class ProveAuthentication(_Model):
    """The proof that card and network agree: a vector from ``ne``'s authentication centre,
    the card's answer to its RAND/AUTN, RES compared with XRES. Read-only, so it is simply run
    again whenever its outcome is unknown."""

    op: Literal["prove_authentication"] = "prove_authentication"
    imsi: Imsi
    ne: str

    def lookup(self) -> Lookup:
        return Lookup(imsi=self.imsi)

    def applied_in(self, view: SubscriberView) -> bool:
        return False


CardOperation = Annotated[WriteCard | ProveAuthentication, Field(discriminator="op")]
"""What a card station executes."""
StepOperation = Annotated[
    NetworkOperation | WriteCard | ProveAuthentication, Field(discriminator="op")
]
"""What a plan step may hold."""
CARD_OPERATIONS = (WriteCard, ProveAuthentication)
