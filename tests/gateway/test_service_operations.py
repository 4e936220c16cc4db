"""The operations a product or a group implies: what each checks, what it does to the gateway's
record of a line (`apply_operation`), and that its compensation puts that record back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.config import DEFAULT_PRODUCTS, Product, load_config
from gateway.lines import apply_operation
from gateway.operations import (
    AddApn,
    AddCug,
    ApnProfile,
    ChangeTemplate,
    Cug,
    CugAccess,
    CugRestriction,
    Operation,
    RemoveApn,
    RemoveCug,
    SetImsSubscription,
    SetPushToTalk,
    SetSmsService,
    SetVolte,
    SubscriberView,
)

MSISDN = "8613800000001"
INTERNET = ApnProfile(
    context_id=1, apn="cmnet", qci=9, ambr_ul_bps=50_000_000, ambr_dl_bps=100_000_000
)
IMS = ApnProfile(context_id=2, apn="ims", qci=5, ambr_ul_bps=256_000, ambr_dl_bps=256_000)
GROUP_CUG = Cug(index=10, interlock="0460a001", restriction=CugRestriction.OUTGOING_BARRED)

# A 4G line with something of everything: what each compensation must give back exactly.
LINE = SubscriberView(
    exists=True,
    auth_loaded=True,
    imsi="460001234567890",
    msisdn=MSISDN,
    template_id=1,
    apns=(INTERNET,),
    cugs=(Cug(index=3, interlock="04600003"),),
)


@pytest.mark.parametrize(
    ("op", "undo"),
    [
        (ChangeTemplate(msisdn=MSISDN, template_id=2),
         ChangeTemplate(msisdn=MSISDN, template_id=1)),
        (AddApn(msisdn=MSISDN, profile=IMS), RemoveApn(msisdn=MSISDN, context_id=2)),
        (RemoveApn(msisdn=MSISDN, context_id=1), AddApn(msisdn=MSISDN, profile=INTERNET)),
        (SetImsSubscription(msisdn=MSISDN, enabled=True),
         SetImsSubscription(msisdn=MSISDN, enabled=False)),
        (AddCug(msisdn=MSISDN, cug=GROUP_CUG), RemoveCug(msisdn=MSISDN, index=10)),
        (RemoveCug(msisdn=MSISDN, index=3),
         AddCug(msisdn=MSISDN, cug=Cug(index=3, interlock="04600003"))),
        (SetPushToTalk(msisdn=MSISDN, group="G-1"), SetPushToTalk(msisdn=MSISDN, group=None)),
        (SetSmsService(msisdn=MSISDN, mo=False, mt=True),
         SetSmsService(msisdn=MSISDN, mo=True, mt=True)),
    ],
    ids=lambda op: op.op,
)  # fmt: skip
def test_applied_after_its_step_and_undone_by_its_compensation(
    op: Operation, undo: Operation
) -> None:
    assert not op.applied_in(LINE)
    after = apply_operation(LINE, op)
    assert op.applied_in(after)
    assert apply_operation(after, undo) == LINE


def test_volte_goes_on_after_ims_and_goes_with_it() -> None:
    view = apply_operation(LINE, AddApn(msisdn=MSISDN, profile=IMS))
    view = apply_operation(view, SetImsSubscription(msisdn=MSISDN, enabled=True))
    on = SetVolte(msisdn=MSISDN, enabled=True)
    view = apply_operation(view, on)
    assert (view.ims, view.volte) == (True, True) and on.applied_in(view)
    assert SetVolte(msisdn=MSISDN, enabled=False).applied_in(
        apply_operation(view, SetVolte(msisdn=MSISDN, enabled=False))
    )
    gone = apply_operation(view, SetImsSubscription(msisdn=MSISDN, enabled=False))
    assert (gone.ims, gone.volte) == (False, False)


def test_pdn_contexts_and_cugs_are_kept_in_order_and_replaced_by_id() -> None:
    view = apply_operation(LINE, AddApn(msisdn=MSISDN, profile=IMS))
    assert [p.context_id for p in view.apns] == [1, 2]
    faster = INTERNET.model_copy(update={"ambr_dl_bps": 300_000_000})
    view = apply_operation(view, AddApn(msisdn=MSISDN, profile=faster))
    assert view.apns == (faster, IMS)
    view = apply_operation(view, AddCug(msisdn=MSISDN, cug=Cug(index=1, interlock="00000001")))
    assert [c.index for c in view.cugs] == [1, 3]
    # the same view, told in another order, is equal: reconciliation compares views
    assert SubscriberView(exists=True, apns=(IMS, INTERNET)) == SubscriberView(
        exists=True, apns=(INTERNET, IMS)
    )


def test_nothing_applies_to_a_subscriber_that_does_not_exist() -> None:
    absent = SubscriberView(exists=False)
    for op in (
        ChangeTemplate(msisdn=MSISDN, template_id=1),
        RemoveApn(msisdn=MSISDN, context_id=1),
        SetVolte(msisdn=MSISDN, enabled=False),
        RemoveCug(msisdn=MSISDN, index=3),
        SetPushToTalk(msisdn=MSISDN, group=None),
        SetSmsService(msisdn=MSISDN, mo=True, mt=True),
    ):
        assert not op.applied_in(absent), op


def test_a_fresh_view_has_sms_and_nothing_of_4g() -> None:
    view = SubscriberView(exists=True)
    assert (view.sms_mo, view.sms_mt, view.apns, view.ims, view.volte) == (
        True,
        True,
        (),
        False,
        False,
    )
    assert (view.cugs, view.ptt_group) == ((), None)


@pytest.mark.parametrize(
    ("model", "values", "field"),
    [
        (ApnProfile, {"apn": "cm net"}, "apn"),
        (ApnProfile, {"apn": "-cmnet"}, "apn"),
        (ApnProfile, {"apn": "cmnet."}, "apn"),
        (ApnProfile, {"apn": "a" * 64}, "apn"),
        (ApnProfile, {"apn": 'ims";RMV SUB'}, "apn"),
        (ApnProfile, {"qci": 0}, "qci"),
        (ApnProfile, {"qci": 255}, "qci"),
        (ApnProfile, {"ambr_dl_bps": 0}, "ambr_dl_bps"),
        (ApnProfile, {"ambr_ul_bps": 4_294_967_296}, "ambr_ul_bps"),
        (ApnProfile, {"context_id": 0}, "context_id"),
        (Cug, {"interlock": "0460A00"}, "interlock"),
        (Cug, {"interlock": "0460A00G"}, "interlock"),
        (Cug, {"index": 32768}, "index"),
        (Cug, {"restriction": "BOTH"}, "restriction"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    model: type[Any], values: dict[str, Any], field: str
) -> None:
    valid: dict[str, Any] = {
        ApnProfile: INTERNET.model_dump(),
        Cug: GROUP_CUG.model_dump(),
    }[model]
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**valid, **values})
    assert [e["loc"][-1] for e in caught.value.errors()] == [field]


@pytest.mark.parametrize(
    "values",
    [
        {"msisdn": MSISDN, "group": "G 1"},
        {"msisdn": MSISDN, "group": "g" * 33},
        {"msisdn": MSISDN, "group": 'G";'},
    ],
)
def test_a_push_to_talk_group_is_a_plain_name(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SetPushToTalk.model_validate(values)


def test_apn_and_interlock_are_normalised() -> None:
    assert ApnProfile.model_validate({**INTERNET.model_dump(), "apn": "CMNET"}).apn == "cmnet"
    assert GROUP_CUG.interlock == "0460A001"
    assert GROUP_CUG.access is CugAccess.BOTH  # members still reach the world outside


def test_the_default_products_say_what_they_imply() -> None:
    products = {p.id: p for p in DEFAULT_PRODUCTS}
    assert (products["4g-unlimited"].volte, [p.apn for p in products["4g-unlimited"].apns]) == (
        True,
        ["cmnet", "ims"],
    )
    assert [p.apn for p in products["4g-basic"].apns] == ["cmnet"]
    assert not products["4g-basic"].volte
    assert (products["voice-only"].apns, products["voice-only"].volte) == ([], False)


def test_the_documented_example_products_read() -> None:
    config = load_config(Path(__file__).parents[2] / "docs" / "examples" / "provgw.toml")
    basic, volte = config.product("4g-basic"), config.product("4g-volte")
    assert basic is not None and volte is not None
    assert basic.apns == [INTERNET] and not basic.volte
    assert volte.volte and volte.apns == [INTERNET, IMS]


def test_an_older_product_configuration_still_reads() -> None:
    product = Product.model_validate({"id": "old", "name": "Old", "template_id": 3})
    assert (product.apns, product.volte, product.data) == ([], False, True)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"volte": True}, "volte needs a PDN context for the IMS APN"),
        ({"volte": True, "apns": [INTERNET.model_dump()]}, "IMS APN"),
        ({"data": False, "apns": [INTERNET.model_dump()]}, "apns need data = true"),
        ({"apns": [INTERNET.model_dump(), INTERNET.model_dump()]}, "each context_id and APN"),
        (
            {"apns": [INTERNET.model_dump(), {**IMS.model_dump(), "apn": "cmnet"}]},
            "each context_id and APN",
        ),
    ],
)
def test_products_whose_network_settings_disagree_are_refused(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Product.model_validate({"id": "p", "name": "P", "template_id": 1, **values})
