"""The open-account wizard in a real browser: a clerk opens an account and writes a card.

Each test drives headless Chromium against a real gateway (see conftest): customer checks
that explain themselves, the number picker with its hold (预占) countdown, the price, and the
card step through a card agent on the real PC/SC chain to an order proven by authentication.
"""

from __future__ import annotations

import contextlib
import re

import pytest

from emulators.usim.card import UsimCard
from gateway.resources.numbers import NumberState
from gateway.resources.stock import CardState
from gateway.store import OrderState
from tests.web.conftest import Browse, LiveGateway, shoot, sign_in

with contextlib.suppress(ImportError):  # the browser fixture names what is missing
    from playwright.sync_api import Page, expect

pytestmark = pytest.mark.pcsc
NAME = "王小明"
GOOD_ID = "11010519491231002X"  # GB 11643 check character X
BAD_ID = "110105194912310021"
ADDRESS = "北京市西城区金融大街29号"


def fill_customer(page: Page, id_number: str = GOOD_ID, address: str = ADDRESS) -> None:
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Document number").fill(id_number)
    page.get_by_label("Address").fill(address)
    page.get_by_label("Contact phone").fill("13900000000")
    page.get_by_role("button", name="Check and continue").click()


def test_the_wizard_opens_an_account_proven_by_authentication(
    browse: Browse, gateway: LiveGateway, pcsc_blank_card: UsimCard
) -> None:
    def scenario(page: Page) -> None:
        sign_in(page)
        page.goto("/ui/open-account")
        order_id = page.locator("#wizard").get_attribute("data-order-id")
        assert order_id

        # The customer: the gateway's own checks, next to the fields they are about.
        fill_customer(page, id_number=BAD_ID, address="")
        id_error = page.locator("#f-customer-id_number-error")
        expect(id_error).to_have_text("resident ID check character is wrong: should be X")
        expect(page.locator("#f-customer-address-error")).to_have_text("This field is required.")
        expect(page.get_by_label("Document number")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Document number")).to_be_focused()
        shoot(page, "open-account-1-customer-checks")
        page.get_by_label("SMS notices in").select_option("en")
        fill_customer(page)
        expect(page.get_by_role("heading", name="2. Number (选号)")).to_be_focused()
        expect(page.locator('[data-result="customer"]')).to_contain_text("person (个人客户)")

        # The number: search by pattern, see the selection fee, hold it and watch the countdown.
        page.get_by_label("Pattern").fill("13800001*88")
        page.get_by_role("button", name="Search free numbers").click()
        row = page.get_by_role("row").filter(has_text="13800001288")
        expect(row).to_contain_text("¥88.00")
        next_button = page.locator('[data-step="number"]').get_by_role("button", name="Next")
        expect(next_button).to_be_disabled()
        page.get_by_role("button", name="Hold 13800001288 (预占)").click()
        expect(page.locator("[data-held-number]")).to_have_text("13800001288")
        countdown = page.locator(".countdown [data-countdown]")
        expect(countdown).to_have_text(re.compile(r"^(29:5\d|30:00)$"))
        held = gateway.call(gateway.resources.numbers.get("13800001288"))
        assert held.state is NumberState.HELD and held.held_by == "clerk1"
        shoot(page, "open-account-2-number-held")
        next_button.click()

        # The product and its price: monthly fee plus the selection fee.
        page.get_by_label(re.compile("4G Unlimited")).check()
        expect(page.locator('[data-price="monthly"]')).to_have_text("¥128.00")
        expect(page.locator('[data-price="selection"]')).to_have_text("¥88.00")
        expect(page.locator('[data-price="due"]')).to_have_text("¥216.00")
        shoot(page, "open-account-3-product")
        page.locator('[data-step="product"]').get_by_role("button", name="Next").click()

        # The card: which station (online, a card in its reader), a blank card from stock.
        card_step = page.locator('[data-step="card"]')
        expect(card_step.get_by_label(re.compile("counter-1"))).to_be_checked()
        expect(card_step).to_contain_text("online")
        expect(card_step).to_contain_text("card in reader")
        iccid = page.locator("[data-card-iccid]")
        expect(iccid).to_have_text(re.compile(r"^89860010000000\d{5}$"))
        card = iccid.inner_text()
        imsi = page.locator("[data-card-imsi]").inner_text().removeprefix("IMSI ")
        shoot(page, "open-account-4-card")
        page.get_by_role("button", name="Write the card and open the account").click()

        # Live progress to the proof, then the receipt.
        expect(page.locator(".proven")).to_have_text(
            "Proven by authentication: the card's RES equals the network's XRES."
        )
        steps = page.locator(".steps-list li")
        expect(steps).to_have_count(5)
        expect(steps.first).to_contain_text("Write the blank card (空白卡写卡)")
        for i in range(5):
            expect(steps.nth(i)).to_have_attribute("data-step-state", "done")
        shoot(page, "open-account-5-proven")
        page.get_by_role("link", name="Receipt").click()
        expect(page.locator(".proven-banner")).to_be_visible()
        expect(page.locator("main")).to_contain_text("13800001288")
        expect(page.locator("main")).to_contain_text("110105********002X")
        expect(page.locator("main")).to_contain_text("¥216.00")
        shoot(page, "receipt")

        rec = gateway.call(gateway.engine.store.get(order_id))
        assert rec is not None and rec.state is OrderState.COMPLETED, rec and rec.reason
        assert rec.order.iccid == card and rec.order.imsi == imsi
        assert rec.order.language == "en"
        assert imsi in gateway.hlr.state.snapshot()["subscribers"]
        number = gateway.call(gateway.resources.numbers.get("13800001288"))
        assert number.state is NumberState.IN_USE and number.order_id == order_id
        assert gateway.call(gateway.resources.stock.get(card)).state is CardState.SOLD

        # The same step at tablet width: one column, nothing cut off.
        page.set_viewport_size({"width": 820, "height": 1180})
        page.goto("/ui/open-account")
        shoot(page, "open-account-tablet")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 820, "no sideways scrolling at tablet width"

    browse(scenario)


def test_a_hold_that_lapses_is_shown_and_stops_the_wizard(
    browse: Browse, gateway: LiveGateway
) -> None:
    def scenario(page: Page) -> None:
        numbers = gateway.resources.numbers
        gateway.call(numbers.change_settings({"hold_minutes": 0.05}, by="test"))  # 3 s
        try:
            sign_in(page)
            page.goto("/ui/open-account")
            fill_customer(page)
            page.get_by_label("Contains").fill("1234567")
            page.get_by_role("button", name="Search free numbers").click()
            page.get_by_role("button", name="Hold 18612345670 (预占)").click()
            expect(page.locator(".countdown [data-countdown]")).to_have_text(
                re.compile(r"^00:0[1-3]$")
            )
            next_button = page.locator('[data-step="number"]').get_by_role("button", name="Next")
            expect(next_button).to_be_enabled()
            lapsed = page.locator("[data-lapsed]")
            expect(lapsed).to_be_visible(timeout=8_000)
            expect(lapsed).to_have_text(re.compile("^The hold has lapsed"))
            expect(page.locator(".countdown [data-countdown]")).to_have_text("00:00")
            expect(next_button).to_be_disabled()
            expect(page.get_by_role("button", name="Hold it again")).to_be_visible()
            shoot(page, "open-account-hold-lapsed")
        finally:
            gateway.call(numbers.change_settings({"hold_minutes": 30}, by="test"))
        assert gateway.call(numbers.get("18612345670")).state is NumberState.UNUSED

    browse(scenario)
