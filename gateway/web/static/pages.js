// provgw outlet front end: the after-sales forms, the subscriber query and an order's detail.
"use strict";

(() => {
  const P = window.Provgw;
  const t = P.t;

  // A form whose answer is an order (or the query's result), shown under it.
  function jsonForm(form) {
    const result = document.querySelector(form.dataset.result);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      form.dataset.orderId = form.dataset.orderId || P.randomId("ui-");
      const body = Object.assign(P.formData(form), { form: form.dataset.formName || "query", order_id: form.dataset.orderId });
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      const answer = await P.postJSON(form.dataset.jsonForm, body);
      button.disabled = false;
      if (!answer.ok) {
        result.textContent = "";
        P.showErrors(form, answer.data.errors);
        return;
      }
      P.clearErrors(form);
      delete form.dataset.orderId; // the next submission is a new order
      if (answer.data.html !== undefined) {
        result.innerHTML = answer.data.html;
        const heading = result.querySelector("h2");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
        return;
      }
      const id = answer.data.order_id;
      result.innerHTML = "";
      const note = document.createElement("p");
      note.className = "alert info";
      const link = document.createElement("a");
      link.href = answer.data.detail;
      link.textContent = t(answer.status === 200 ? "already" : "accepted", { id });
      note.appendChild(link);
      const progress = document.createElement("div");
      result.append(note, progress);
      P.announce(link.textContent);
      P.followOrder(id, progress);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-json-form]")) jsonForm(form);
    const progress = document.querySelector("[data-progress][data-order-id]");
    if (progress && progress.dataset.terminal !== "true") P.followOrder(progress.dataset.orderId, progress);
  });
})();
