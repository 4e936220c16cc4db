// provgw outlet front end: what every page shares. Plain JavaScript, served by the gateway.
//
// - messages in the clerk's language (from the page), and a polite announcer for screen readers
// - JSON calls to /ui/api with the gateway's {"errors": [{field, message}]} shown next to fields
// - live order events (server-sent events), and fragments that refresh themselves
"use strict";

window.Provgw = (() => {
  const messages = JSON.parse(document.body.dataset.messages || "{}");

  function t(key, params) {
    let text = messages[key] || key;
    for (const [name, value] of Object.entries(params || {})) {
      text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 60);
  }

  function money(cents) {
    return "¥" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function randomId(prefix) {
    const bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function toSignIn() {
    window.location.assign("/ui/signin?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  }

  async function postJSON(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
        },
        body: JSON.stringify(body || {}),
        credentials: "same-origin",
      });
    } catch (err) {
      return { status: 0, ok: false, data: { errors: [{ field: "body", message: t("network_error") }] } };
    }
    if (response.status === 401) toSignIn();
    let data = {};
    try { data = await response.json(); } catch (err) { data = {}; }
    if (!response.ok && !Array.isArray(data.errors)) {
      data.errors = [{ field: "body", message: data.detail ? String(data.detail) : t("network_error") }];
    }
    return { status: response.status, ok: response.ok, data };
  }

  async function fetchHTML(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.status === 401 || response.redirected && response.url.includes("/ui/signin")) {
        toSignIn();
        return null;
      }
      return await response.text();
    } catch (err) {
      return null;
    }
  }

  function formData(form) {
    const data = {};
    for (const element of form.elements) {
      if (!element.name || element.disabled) continue;
      if (element.type === "radio") {
        if (element.checked) data[element.name] = element.value;
      } else if (element.type === "checkbox") {
        data[element.name] = element.checked ? element.value : "";
      } else if (element.tagName !== "BUTTON") {
        data[element.name] = element.value;
      }
    }
    return data;
  }

  function clearErrors(scope) {
    for (const p of scope.querySelectorAll(".field-error")) { p.hidden = true; p.textContent = ""; }
    for (const el of scope.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    for (const s of scope.querySelectorAll(".error-summary")) { s.hidden = true; s.textContent = ""; }
  }

  // Each error next to its field ([data-field] = the gateway's field name); the rest, and a
  // list of all of them, in the scope's summary. Focus goes to the first field in error (so a
  // screen reader reads its label and message), else to the summary.
  function showErrors(scope, errors, summaryScope) {
    clearErrors(scope);
    let first = null;
    const loose = [];
    for (const error of errors || []) {
      const holder = scope.querySelector(`[data-field="${CSS.escape(error.field)}"]`);
      const control = holder && holder.querySelector("input, select");
      const message = holder && holder.querySelector(".field-error");
      if (holder && message) {
        message.textContent = error.message;
        message.hidden = false;
        for (const c of holder.querySelectorAll("input, select")) c.setAttribute("aria-invalid", "true");
        if (!first && control) first = control;
      } else {
        loose.push(error.message);
      }
    }
    const summary = (summaryScope || scope).querySelector(".error-summary");
    if (summary && loose.length) {
      summary.textContent = "";
      const title = document.createElement("strong");
      title.textContent = t("errors_title");
      const list = document.createElement("ul");
      for (const text of loose) {
        const item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      }
      summary.append(title, list);
      summary.hidden = false;
    }
    if (first) first.focus();
    else if (summary && loose.length) summary.focus();
    return first;
  }

  // -- live order events ----------------------------------------------------------------
  const listeners = new Set();
  const reopened = new Set(); // called when the stream (re)connects: events may have been missed
  let source = null;
  let warned = false;

  function onOrderEvent(listener, onOpen) {
    listeners.add(listener);
    if (onOpen) reopened.add(onOpen);
    if (!source) {
      source = new EventSource("/ui/api/events");
      source.addEventListener("order", (e) => {
        let event;
        try { event = JSON.parse(e.data); } catch (err) { return; }
        for (const l of Array.from(listeners)) l(event);
      });
      source.addEventListener("open", () => {
        warned = false;
        document.body.dataset.live = "connected";
        for (const again of Array.from(reopened)) again();
      });
      source.addEventListener("error", () => {
        document.body.dataset.live = "reconnecting";
        if (!warned) { warned = true; announce(t("live_lost")); }
      });
    }
    return () => { listeners.delete(listener); reopened.delete(onOpen); };
  }

  // -- fragments that refresh themselves --------------------------------------------------
  async function refresh(element) {
    let url = element.dataset.source;
    const keep = element.dataset.keepChoice;
    if (keep) {
      const chosen = element.querySelector(`input[name="${keep}"]:checked`);
      if (chosen) url += (url.includes("?") ? "&" : "?") + "selected=" + encodeURIComponent(chosen.value);
    }
    if (element.contains(document.activeElement) && document.activeElement.tagName === "INPUT" && !keep) return;
    const html = await fetchHTML(url);
    if (html === null) return;
    const focusedName = element.contains(document.activeElement) ? document.activeElement.getAttribute("value") : null;
    element.innerHTML = html;
    if (focusedName) {
      const again = element.querySelector(`input[value="${CSS.escape(focusedName)}"]`);
      if (again) again.focus();
    }
    element.dispatchEvent(new CustomEvent("provgw:refreshed", { bubbles: true }));
  }

  function debounce(fn, ms) {
    let timer = null;
    return () => { window.clearTimeout(timer); timer = window.setTimeout(fn, ms); };
  }

  function start() {
    for (const element of document.querySelectorAll("[data-source][data-refresh]")) {
      const every = Number(element.dataset.refresh) || 5000;
      window.setInterval(() => { refresh(element); }, every);
    }
    for (const element of document.querySelectorAll("[data-source][data-live='orders']")) {
      const again = debounce(() => refresh(element), 150);
      onOrderEvent(again, again);
    }
  }

  // -- one order followed live ------------------------------------------------------------
  // The engine sends an event per state change; steps move between them, so while the
  // order runs its progress fragment is also read a few times a second.
  function followOrder(orderId, container, onEnd) {
    let ended = false;
    let lastState = "";
    const seen = new Map();
    const url = "/ui/orders/" + encodeURIComponent(orderId) + "/progress";
    async function update() {
      if (ended) return;
      const html = await fetchHTML(url);
      if (html === null || ended) return;
      container.innerHTML = html;
      const root = container.querySelector(".order-progress");
      if (!root) return;
      for (const step of root.querySelectorAll("[data-op]")) {
        const state = step.dataset.stepState;
        if (seen.get(step.dataset.op) !== state && state !== "pending") {
          seen.set(step.dataset.op, state);
          const name = step.querySelector(".step-name");
          const badge = step.querySelector(".badge");
          announce(`${name ? name.textContent : ""}: ${badge ? badge.textContent : state}`);
        }
      }
      if (root.dataset.state !== lastState) {
        lastState = root.dataset.state;
        const badge = root.querySelector(".state-line .badge");
        announce(t("order_state", { id: orderId, state: badge ? badge.textContent : lastState }));
      }
      if (root.dataset.terminal === "true") {
        ended = true;
        window.clearInterval(timer);
        stop();
        const proven = root.querySelector(".proven");
        if (proven) announce(proven.textContent);
        if (onEnd) onEnd(root);
      }
    }
    const stop = onOrderEvent((event) => { if (event.order_id === orderId) update(); });
    const timer = window.setInterval(update, 400);
    update();
  }

  document.addEventListener("DOMContentLoaded", start);
  return { t, announce, money, randomId, postJSON, fetchHTML, formData, clearErrors, showErrors, onOrderEvent, refresh, followOrder };
})();
