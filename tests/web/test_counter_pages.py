"""The rest of the counter in a real browser: signing in, the language, live orders, refusals,
after-sales, the subscriber query, SIM replacement with the card step, network status."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest

from emulators.usim.card import UsimCard
from gateway.resources.stock import CardState
from gateway.store import OrderState
from tests.gateway.orders_factory import KI, iccid, open_account, order
from tests.web.conftest import CLOSED_CHANNEL, NIGHT_CLERK, Browse, LiveGateway, shoot, sign_in

with contextlib.suppress(ImportError):  # the browser fixture names what is missing
    from playwright.sync_api import Page, expect

pytestmark = pytest.mark.pcsc


def place(gateway: LiveGateway, *orders: Any) -> None:
    """Orders straight into the engine (as an API client would), run to their end."""

    async def run() -> None:
        for o in orders:
            await gateway.engine.submit(o)
        await gateway.engine.drain()

    gateway.call(run())


def test_sign_in_by_keyboard_refused_outside_opening_hours(browse: Browse) -> None:
    def scenario(page: Page) -> None:
        page.goto("/ui/")
        page.wait_for_url("**/ui/signin?next=%2Fui%2F")
        expect(page.get_by_label("Operator id")).to_be_focused()
        shoot(page, "signin")
        page.keyboard.type(NIGHT_CLERK[0])
        page.keyboard.press("Tab")
        page.keyboard.type(NIGHT_CLERK[1])
        page.keyboard.press("Tab")
        page.keyboard.type(CLOSED_CHANNEL)
        page.keyboard.press("Enter")
        refusal = page.get_by_role("alert")
        expect(refusal).to_contain_text("Sign-in refused")
        expect(refusal).to_contain_text(
            re.compile(
                r"channel OUT002 is outside its opening hours: it is \w{3} \d\d:\d\d there, "
                r"open mon–sun closed \(Asia/Shanghai\)"
            )
        )
        shoot(page, "signin-refused-outside-hours")

        page.get_by_label("Operator id").fill("clerk1")
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_label("Channel").fill("OUT001")
        page.get_by_label("Password").press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("wrong operator or password")
        cookies = {c["name"] for c in page.context.cookies()}
        assert "provgw_session" not in cookies

        page.get_by_label("Password").fill("clerk1-demo")
        page.get_by_label("Password").press("Enter")
        page.wait_for_url("**/ui/")
        session = next(c for c in page.context.cookies() if c["name"] == "provgw_session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert "clerk1-demo" not in session["value"]
        shoot(page, "home")

    browse(scenario)


def test_the_language_switches_at_any_time_and_is_kept_per_operator(browse: Browse) -> None:
    def scenario(page: Page) -> None:
        sign_in(page)
        page.goto("/ui/open-account")
        page.get_by_role("button", name="简体中文").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        expect(page.get_by_role("heading", level=1)).to_have_text("开户")
        expect(page.get_by_role("link", name="工单")).to_be_visible()
        page.get_by_label("证件号码").fill("110105194912310021")
        page.get_by_role("button", name="检查并继续").click()
        expect(page.locator("#f-customer-id_number-error")).to_have_text(
            "身份证号码校验位错误：应为 X"
        )
        expect(page.locator("#f-customer-address-error")).to_have_text("此项必填。")
        shoot(page, "open-account-zh")

        page.get_by_role("button", name="退出").click()
        expect(page.get_by_role("heading", name="登录")).to_be_visible()  # this PC's last choice
        page.get_by_role("button", name="English").click()
        sign_in(page)  # clerk1 chose Chinese: that choice is theirs
        expect(page.get_by_role("heading", level=1)).to_have_text("柜台")
        shoot(page, "home-zh")
        page.get_by_role("button", name="退出").click()
        page.get_by_role("button", name="English").click()
        sign_in(page, "admin1")  # admin1 never chose: English, as on this PC
        expect(page.get_by_role("heading", level=1)).to_have_text("Counter")

    browse(scenario)


def test_the_order_list_updates_live_and_shows_an_orders_detail(
    browse: Browse, gateway: LiveGateway
) -> None:
    def scenario(page: Page) -> None:
        sign_in(page)
        page.goto("/ui/orders")
        expect(page.get_by_text("This list updates by itself.")).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-live", "connected")
        new = open_account("live-1", n=9001, msisdn="13900009001")
        place(gateway, new)
        row = page.locator('tr[data-order="live-1"]')
        expect(row).to_have_attribute("data-state", "completed")
        expect(row).to_contain_text("Open account (开户)")
        expect(row).to_contain_text("13900009001")

        page.get_by_label("State").select_option("failed")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator('tr[data-order="live-1"]')).to_have_count(0)
        expect(page.locator("body")).to_have_attribute("data-live", "connected")
        place(gateway, order("suspend", "live-2", msisdn="13900009002"))
        failed = page.locator('tr[data-order="live-2"]')
        expect(failed).to_contain_text("number 13900009002 has no active line")
        page.get_by_role("link", name="Clear filters").click()
        for placed in ("live-1", "live-2"):
            expect(page.locator(f'tr[data-order="{placed}"]')).to_be_visible()
        shoot(page, "orders")

        page.goto("/ui/orders/live-1")
        expect(page.get_by_role("heading", level=1)).to_have_text("Order live-1")
        expect(page.locator(".steps-list li")).to_have_count(3)
        transcript = page.locator("table.transcript")
        expect(transcript).to_contain_text('KIVALUE="****"')
        assert KI not in page.content()
        shoot(page, "order-detail")

        page.goto("/ui/network")
        hlr = page.locator('tr[data-target="hlr1"]')
        expect(hlr).to_contain_text("yes")
        expect(hlr).to_contain_text(re.compile(r"\d+\.\d ms"))
        expect(page.locator('tr[data-target="counter-1"]')).to_contain_text("card station")
        shoot(page, "network")

    browse(scenario)


def test_a_refused_order_shows_the_reason_a_clerk_can_act_on(browse: Browse) -> None:
    def scenario(page: Page) -> None:
        sign_in(page)
        page.goto("/ui/after-sales")
        shoot(page, "after-sales")
        form = page.locator("#form-suspend_resume")
        form.get_by_label("Mobile number").fill("1234")
        form.get_by_role("button", name="Place the order").click()
        expect(form.locator('[data-field="msisdn"] .field-error')).to_have_text(
            "mobile number must be 11 digits starting 13–19 (e.g. 13800138000)"
        )
        expect(form.get_by_label("Mobile number")).to_be_focused()
        form.get_by_label("Mobile number").fill("13800000999")
        form.get_by_label("Resume (复机)").check()
        form.get_by_role("button", name="Place the order").click()
        result = page.locator("#result-suspend_resume")
        expect(result).to_contain_text("accepted")
        expect(result.locator(".badge").first).to_have_text("failed")
        expect(result.locator("[data-reason]")).to_have_text(
            "Why: number 13800000999 has no active line"
        )
        cancel = page.locator("#form-cancel")
        cancel.get_by_label("Mobile number").fill("13800000999")
        cancel.get_by_role("button", name="Place the order").click()
        expect(cancel.locator('[data-field="owner_present"] .field-error')).to_contain_text(
            "owner in person"
        )
        shoot(page, "after-sales-refused")

    browse(scenario)


def test_card_over_the_air_and_stk_activation_from_after_sales(
    browse: Browse, gateway: LiveGateway
) -> None:
    def scenario(page: Page) -> None:
        number = "13900009300"
        place(gateway, open_account("ota-open", n=9300, msisdn=number))
        sign_in(page)
        page.goto("/ui/after-sales")
        form = page.locator("#form-ota_update")
        form.get_by_label("Mobile number").fill(number)
        form.get_by_role("button", name="Place the order").click()
        expect(form.get_by_role("alert")).to_contain_text(
            "give at least one of spn, roaming_networks, sms_centre"
        )
        form.get_by_label("Name shown on the phone (SPN)").fill("中国移动通信集团")
        form.get_by_label("Preferred networks abroad").fill("454-00, 46001")
        form.get_by_role("button", name="Place the order").click()
        expect(form.locator('[data-field="roaming_networks"] .field-error')).to_have_text(
            "Write each network as MCC-MNC (e.g. 454-00), separated by commas."
        )
        form.get_by_label("Preferred networks abroad").fill("454-00, 460-01:e-utran")
        form.get_by_role("button", name="Place the order").click()
        expect(form.locator('[data-field="spn"] .field-error')).to_contain_text(
            "7 characters when it has any outside the GSM alphabet"
        )
        form.get_by_label("Name shown on the phone (SPN)").fill("中国移动")
        form.get_by_role("button", name="Place the order").click()
        result = page.locator("#result-ota_update")
        expect(result.locator(".badge").first).to_have_text("failed")
        expect(result.locator("[data-reason]")).to_have_text(
            "Why: no OTA target is configured ([ota]): cards cannot be reached"
        )
        stk = page.locator("#form-stk_activate")
        stk.get_by_label("Mobile number").fill(number)
        stk.get_by_role("button", name="Place the order").click()
        expect(page.locator("#result-stk_activate [data-reason]")).to_contain_text(
            "no OTA target is configured"
        )
        shoot(page, "after-sales-ota")
        page.get_by_role("button", name="简体中文").click()
        expect(page.locator("#h-ota_update")).to_have_text("空中写卡")
        expect(page.locator("#h-stk_activate")).to_have_text("开通STK业务")
        expect(page.locator("#form-ota_update")).to_contain_text("境外优选网络")
        page.get_by_role("button", name="English").click()

    browse(scenario)


def test_the_subscriber_query_follows_the_service_password_rules(
    browse: Browse, gateway: LiveGateway
) -> None:
    def scenario(page: Page) -> None:
        number = "13900009100"
        place(
            gateway,
            open_account("q-open", n=9100, msisdn=number),
            order("change_customer_info", "q-pass", msisdn=number, service_password="123456"),
        )
        sign_in(page)
        page.goto("/ui/query")
        form = page.locator("#query-form")
        form.get_by_label("Mobile number").fill(number)
        form.get_by_role("button", name="Query").click()
        expect(form.locator("#f-service_password-error")).to_have_text(
            "Give the service password, or the owner's ID document number."
        )
        form.get_by_label("Owner's document number").fill("110101199003074518")
        form.get_by_role("button", name="Query").click()
        expect(form.locator("#f-id_number-error")).to_contain_text("not the owner's")
        form.get_by_label("Service password (服务密码)").fill("654320")
        form.get_by_role("button", name="Query").click()
        expect(form.locator("#f-service_password-error")).to_contain_text("wrong")

        form.get_by_label("Service password (服务密码)").fill("123456")
        form.get_by_role("button", name="Query").click()
        result = page.locator("#query-result")
        expect(result).to_contain_text("served on the service password")
        expect(result).to_contain_text("The service password is weak")
        expect(result).to_contain_text("active")
        expect(result).to_contain_text("hlr1 holds exactly what the gateway recorded")
        shoot(page, "query")

        form.get_by_label("Service password (服务密码)").fill("")
        form.get_by_label("Owner's document number").fill("11010519491231002x")
        form.get_by_role("button", name="Query").click()
        expect(result).to_contain_text("served to the owner (ID document checked)")

    browse(scenario)


def test_a_sim_replacement_writes_the_new_card_and_proves_it(
    browse: Browse, gateway: LiveGateway, pcsc_blank_card: UsimCard
) -> None:
    def scenario(page: Page) -> None:
        number = "13900009200"
        place(gateway, open_account("s-open", n=9200, msisdn=number, iccid=iccid(9200)))
        sign_in(page)
        page.goto("/ui/sim-swap")
        page.get_by_label("Mobile number").fill(number)
        page.get_by_label("Why a new card").select_option("lost")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_role("heading", name="4. Card (写卡)")).to_be_focused()
        card = page.locator("[data-card-iccid]")
        expect(card).to_have_text(re.compile(r"^8986"))
        new_iccid = card.inner_text()
        imsi = page.locator("[data-card-imsi]").inner_text().removeprefix("IMSI ")
        page.get_by_role("button", name="Write the new card and replace the SIM").click()
        expect(page.locator(".proven")).to_be_visible()
        expect(page.locator('[data-op="swap_imsi"]')).to_have_attribute("data-step-state", "done")
        shoot(page, "sim-swap-proven")
        assert list(gateway.hlr.state.snapshot()["subscribers"]).count(imsi) == 1
        line = gateway.call(gateway.engine.store.lines([number]))[number]
        assert line is not None and line.imsi == imsi
        swaps = gateway.call(gateway.engine.store.list_orders(kind="sim_swap", msisdn=number))
        assert [s.state for s in swaps] == [OrderState.COMPLETED]
        assert gateway.call(gateway.resources.stock.get(new_iccid)).state is CardState.SOLD

    browse(scenario)
