// provgw outlet front end: the counter — the number picker with its hold (预占) countdown, and
// the wizards that end in a card written at a station (开户 open account, 补卡 SIM replacement).
"use strict";

(() => {
  const P = window.Provgw;
  const t = P.t;

  // -- the number picker: search, hold, count down, give back ------------------------------
  class NumberPicker {
    constructor(root, scope, events) {
      this.root = root;
      this.scope = scope; // where [data-countdown] and [data-hold-status] live
      this.events = events;
      this.held = null;
      this.timer = null;
      const search = root.querySelector("[data-number-search]");
      search.addEventListener("submit", (e) => { e.preventDefault(); this.search(search); });
      root.addEventListener("click", (e) => {
        const button = e.target.closest("[data-hold]");
        if (button) this.hold(button.dataset.hold, button);
      });
      root.querySelector("[data-release]").addEventListener("click", () => this.release());
      root.querySelector("[data-rehold]").addEventListener("click", (e) => {
        if (this.held) this.hold(this.held.msisdn, e.currentTarget);
      });
    }

    async search(form) {
      P.clearErrors(form);
      const params = new URLSearchParams();
      for (const name of ["pattern", "contains"]) {
        const value = form.elements[name].value.trim();
        if (value) params.set(name, value);
      }
      const results = this.root.querySelector("[data-number-results]");
      const html = await P.fetchHTML("/ui/numbers?" + params.toString());
      if (html !== null) results.innerHTML = html;
    }

    async hold(msisdn, button) {
      const error = this.root.querySelector("[data-hold-error]");
      error.hidden = true;
      if (button) button.disabled = true;
      if (this.held && this.held.msisdn !== msisdn && !this.held.lapsed) await this.release(true);
      const answer = await P.postJSON("/ui/api/holds", { msisdn });
      if (button) button.disabled = false;
      if (!answer.ok) {
        error.textContent = answer.data.errors.map((e) => e.message).join(" ");
        error.hidden = false;
        return;
      }
      const data = answer.data;
      this.held = { msisdn: data.msisdn, fee: data.fee_cents, rule: data.fee_rule, lapsed: false };
      this.held.deadline = performance.now() + data.expires_in_s * 1000;
      const panel = this.root.querySelector("[data-held]");
      panel.hidden = false;
      panel.querySelector("[data-held-number]").textContent = data.msisdn;
      panel.querySelector("[data-held-fee]").textContent =
        data.fee_cents ? `(${t("fee", { fee: P.money(data.fee_cents) })}${data.fee_rule ? " · " + data.fee_rule : ""})` : `(${t("no_fee")})`;
      panel.querySelector("[data-lapsed]").hidden = true;
      panel.querySelector("[data-release]").hidden = false;
      panel.querySelector("[data-rehold]").hidden = true;
      const status = this.scope.querySelector("[data-hold-status]");
      if (status) {
        status.hidden = false;
        status.classList.remove("warn");
        status.querySelector("[data-hold-text]").textContent = `${data.msisdn} · ${t("fee", { fee: P.money(data.fee_cents) })}`;
      }
      this.announced = new Set();
      P.announce(t("held", { number: data.msisdn, minutes: Math.round(data.expires_in_s / 60) }));
      this.tick();
      window.clearInterval(this.timer);
      this.timer = window.setInterval(() => this.tick(), 250);
      this.events.held(this.held);
    }

    tick() {
      if (!this.held || this.held.lapsed) return;
      const left = Math.max(0, Math.ceil((this.held.deadline - performance.now()) / 1000));
      const text = `${String(Math.floor(left / 60)).padStart(2, "0")}:${String(left % 60).padStart(2, "0")}`;
      for (const el of this.scope.querySelectorAll("[data-countdown]")) {
        el.textContent = text;
        el.closest("p").classList.toggle("soon", left <= 60);
      }
      for (const mark of [300, 60]) {
        if (left <= mark && left > 0 && !this.announced.has(mark)) {
          this.announced.add(mark);
          if (this.held.deadline - performance.now() < (mark - 5) * 1000) continue; // started below it
          P.announce(t("hold_minutes", { number: this.held.msisdn, minutes: mark / 60 }));
        }
      }
      if (left === 0) this.lapse();
    }

    lapse() {
      this.held.lapsed = true;
      window.clearInterval(this.timer);
      const panel = this.root.querySelector("[data-held]");
      panel.querySelector("[data-lapsed]").hidden = false;
      panel.querySelector("[data-release]").hidden = true;
      panel.querySelector("[data-rehold]").hidden = false;
      const status = this.scope.querySelector("[data-hold-status]");
      if (status) status.classList.add("warn");
      P.announce(t("lapsed", { number: this.held.msisdn }));
      this.events.lost(this.held);
    }

    async release(quiet) {
      if (!this.held) return;
      const msisdn = this.held.msisdn;
      window.clearInterval(this.timer);
      await P.postJSON("/ui/api/holds/" + encodeURIComponent(msisdn) + "/release", {});
      this.held = null;
      this.root.querySelector("[data-held]").hidden = true;
      const status = this.scope.querySelector("[data-hold-status]");
      if (status) status.hidden = true;
      if (!quiet) P.announce(t("released", { number: msisdn }));
      this.events.lost(null);
    }

    forget() {
      // The order took the number into use: there is no hold to count down any more.
      window.clearInterval(this.timer);
      const status = this.scope.querySelector("[data-hold-status]");
      if (status) status.hidden = true;
      this.held = null;
    }
  }

  // -- wizards ending in a card step ------------------------------------------------------
  class Wizard {
    constructor(root) {
      this.root = root;
      this.form = root.dataset.formName;
      this.orderId = root.dataset.orderId || P.randomId("ui-");
      this.card = null;
      this.steps = Array.from(root.querySelectorAll("[data-step]"));
      this.history = [];
      const pickerRoot = root.querySelector("[data-number-picker]");
      if (pickerRoot) {
        const next = root.querySelector('[data-next="product"]');
        this.picker = new NumberPicker(pickerRoot, root, {
          held: () => { next.disabled = false; this.updatePrice(); },
          lost: () => { next.disabled = true; },
        });
      }
      for (const button of root.querySelectorAll("[data-next]")) {
        button.addEventListener("click", () => this.show(button.dataset.next));
      }
      for (const button of root.querySelectorAll("[data-back]")) {
        button.addEventListener("click", () => this.back());
      }
      root.querySelector("[data-cancel]").addEventListener("click", () => this.cancel());
      root.querySelector("[data-write]").addEventListener("click", () => this.write());
      root.querySelector("[data-try-again]").addEventListener("click", () => this.again());
      const customer = root.querySelector("#customer-form");
      if (customer) customer.addEventListener("submit", (e) => { e.preventDefault(); this.checkCustomer(customer); });
      const line = root.querySelector("#line-form");
      if (line) line.addEventListener("submit", (e) => { e.preventDefault(); this.show("card"); });
      for (const radio of root.querySelectorAll('input[name="product"]')) {
        radio.addEventListener("change", () => this.updatePrice());
      }
    }

    current() { return this.steps.find((s) => !s.hidden); }

    show(name, remember = true) {
      const from = this.current();
      if (remember && from && from.dataset.step !== name) this.history.push(from.dataset.step);
      for (const step of this.steps) step.hidden = step.dataset.step !== name;
      let reached = true;
      for (const marker of document.querySelectorAll("[data-step-marker]")) {
        const here = marker.dataset.stepMarker === name;
        if (here) { marker.setAttribute("aria-current", "step"); reached = false; } else marker.removeAttribute("aria-current");
        marker.classList.toggle("done", reached && !here);
      }
      const heading = this.steps.find((s) => s.dataset.step === name).querySelector("h2");
      if (heading) heading.focus();
      if (name === "product") this.updatePrice();
      if (name === "card") this.takeCard();
    }

    back() {
      const previous = this.history.pop();
      if (previous) this.show(previous, false);
    }

    async checkCustomer(form) {
      const result = this.root.querySelector('[data-result="customer"]');
      result.textContent = "";
      const answer = await P.postJSON("/ui/api/customer/check", P.formData(form));
      if (!answer.ok) { P.showErrors(form, answer.data.errors); return; }
      P.clearErrors(form);
      let text = t("customer_ok", { kind: answer.data.kind });
      if (answer.data.known && answer.data.categories.length) {
        text += " " + t("customer_known", { categories: answer.data.categories.join(", ") });
      }
      result.textContent = text;
      this.show("number");
    }

    updatePrice() {
      const chosen = this.root.querySelector('input[name="product"]:checked');
      if (!chosen) return;
      const monthly = Number(chosen.dataset.monthly);
      const fee = this.picker && this.picker.held ? this.picker.held.fee : 0;
      this.root.querySelector('[data-price="monthly"]').textContent = P.money(monthly);
      this.root.querySelector('[data-price="selection"]').textContent = P.money(fee);
      this.root.querySelector('[data-price="due"]').textContent = P.money(monthly + fee);
    }

    async takeCard() {
      const step = this.root.querySelector("[data-card-step]");
      const error = step.querySelector("[data-card-error]");
      error.hidden = true;
      if (this.card) return;
      const answer = await P.postJSON("/ui/api/cards/reserve", { order_id: this.orderId });
      if (!answer.ok) {
        error.textContent = answer.data.errors.map((e) => e.message).join(" ");
        error.hidden = false;
        return;
      }
      this.card = answer.data;
      step.querySelector("[data-card-iccid]").textContent = this.card.iccid;
      step.querySelector("[data-card-imsi]").textContent = "IMSI " + this.card.imsi;
      P.announce(t("card_taken", { iccid: this.card.iccid }));
    }

    body() {
      const body = { form: this.form, order_id: this.orderId };
      for (const id of ["#customer-form", "#line-form", "#product-form"]) {
        const form = this.root.querySelector(id);
        if (form) Object.assign(body, P.formData(form));
      }
      if (this.picker && this.picker.held) body.msisdn = this.picker.held.msisdn;
      const station = this.root.querySelector('input[name="station"]:checked');
      body.station = station ? station.value : "";
      body.iccid = this.card ? this.card.iccid : "";
      return body;
    }

    async write() {
      const step = this.root.querySelector("[data-card-step]");
      const button = this.root.querySelector("[data-write]");
      if (this.form === "open_account" && !(this.picker && this.picker.held && !this.picker.held.lapsed)) {
        P.showErrors(step, [{ field: "msisdn", message: t("choose_number") }]);
        return;
      }
      button.disabled = true;
      P.announce(t("submitting"));
      const answer = await P.postJSON("/ui/api/orders", this.body());
      button.disabled = false;
      if (!answer.ok) { this.problems(answer.data.errors); return; }
      P.clearErrors(step);
      P.announce(t(answer.status === 200 ? "already" : "accepted", { id: answer.data.order_id }));
      this.card = null;
      this.root.querySelector("[data-cancel]").hidden = true;
      for (const b of this.root.querySelectorAll("[data-before-write], [data-insert]")) b.hidden = true;
      const progress = step.querySelector("[data-progress]");
      progress.hidden = false;
      P.followOrder(answer.data.order_id, progress, (root) => {
        if (root.dataset.state === "completed") {
          if (this.picker) this.picker.forget(); // the number is in use now
          const done = step.querySelector("[data-done]");
          done.querySelector("[data-receipt]").href = answer.data.receipt;
          done.querySelector("[data-order-link]").href = answer.data.detail;
          done.hidden = false;
          done.querySelector("[data-receipt]").focus();
        } else {
          step.querySelector("[data-order-link]").href = answer.data.detail;
          step.querySelector("[data-retry]").hidden = false;
        }
      });
    }

    // Messages about fields of an earlier step: go back there and show them by the fields.
    problems(errors) {
      for (const step of this.steps) {
        const mine = errors.filter((e) => step.querySelector(`[data-field="${CSS.escape(e.field)}"]`));
        if (mine.length && step !== this.current()) {
          this.show(step.dataset.step);
          P.showErrors(step, mine);
          return;
        }
      }
      P.showErrors(this.current(), errors);
    }

    again() {
      // A new order (the failed one keeps its id and its record) on a fresh card from stock;
      // the customer, the held number and the product stay as they were.
      this.orderId = P.randomId("ui-");
      this.card = null;
      const step = this.root.querySelector("[data-card-step]");
      step.querySelector("[data-retry]").hidden = true;
      step.querySelector("[data-progress]").hidden = true;
      for (const b of this.root.querySelectorAll("[data-before-write], [data-insert]")) b.hidden = false;
      this.root.querySelector("[data-cancel]").hidden = false;
      this.takeCard();
    }

    async cancel() {
      await P.postJSON("/ui/api/desk/clear", {});
      P.announce(t("cancelled"));
      window.location.reload();
    }
  }

  // -- the change-number form: the picker fills in the new number ----------------------------
  function numberForm(section) {
    const input = section.querySelector('input[name="new_msisdn"]');
    new NumberPicker(section.querySelector("[data-number-picker]"), section, {
      held: (held) => { input.value = held.msisdn; },
      lost: () => {},
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const wizard = document.querySelector("[data-wizard]");
    if (wizard) { new Wizard(wizard); return; }
    for (const section of document.querySelectorAll("section")) {
      if (section.querySelector("[data-number-picker]")) numberForm(section);
    }
  });
})();
