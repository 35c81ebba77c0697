// Generate, Request from a CA and Renew: making an RSA key takes a few seconds, longer for 4096 bits. Once the form
// is sent, its button is disabled (no second key from a second click) and the page says what is happening. The page
// says the same in plain text for browsers without JavaScript.
(() => {
  "use strict";
  document.querySelectorAll("form[data-generating]").forEach((form) => {
    form.addEventListener("submit", () => {
      // After this event the browser builds the request from the form: the buttons carry no value it needs.
      form.querySelectorAll("button[type=submit]").forEach((button) => {
        button.disabled = true;
      });
      form.setAttribute("aria-busy", "true");
      const status = form.querySelector(".generating");
      if (status) {
        status.textContent = "Generating the key… this can take a few seconds (RSA-4096 longer).";
      }
    });
  });
  // A page restored from the back/forward cache after a submit would keep its button disabled.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[data-generating]").forEach((form) => {
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[type=submit]").forEach((button) => {
        button.disabled = false;
      });
      const status = form.querySelector(".generating");
      if (status) {
        status.textContent = "";
      }
    });
  });
})();
