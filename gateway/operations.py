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

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    card: CardView | None = None  # files read over the air (OTA lookups only)


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
