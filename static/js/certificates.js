// Upload Certificate panel: as soon as a file is chosen, the server's parser reads it and the read-only fields
// fill in. There is no parsing here; without JavaScript the "Read file" button gives the same result.
(() => {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) {
    return;
  }
  const url = form.dataset.previewUrl;
  const certificateInput = form.elements.namedItem("certificate_file");
  const keyInput = form.elements.namedItem("key_file");
  const passwordInput = form.elements.namedItem("key_password");
  const aliasInput = form.elements.namedItem("alias");
  const carriedInput = form.elements.namedItem("certificate_pem");
  const fields = ["subject_name", "serial_number", "subject_dn", "issuer_dn"];
  // The alias follows the chosen certificate until the user types one of their own.
  let proposed = aliasInput.dataset.proposed || "";
  // Why the proposed alias is not the certificate's name; it says nothing of an alias the user types.
  const aliasNote = document.getElementById("alias-note");
  aliasInput.addEventListener("input", () => {
    aliasNote.textContent = aliasInput.value === proposed ? aliasNote.textContent : "";
  });
  let latest = 0;

  function setText(id, text) {
    const element = document.getElementById(id);
    if (element) {
      element.value = text;
    }
  }

  function showError(field, message) {
    const box = document.getElementById(`${field}-errors`);
    const input = form.elements.namedItem(field);
    box.replaceChildren();
    if (message) {
      const p = document.createElement("p");
      p.className = "field-error";
      p.setAttribute("role", "alert");
      p.textContent = message;
      box.append(p);
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  }

  function apply(result, sent) {
    const errors = result.errors || {};
    if (sent.certificate) {
      const certificate = result.certificate;
      for (const field of fields) {
        setText(field, certificate ? certificate[field] : "");
      }
      const check = document.getElementById("certificate-check");
      check.textContent = certificate && certificate.status ? `${certificate.status}. ${certificate.chain}` : "";
      const warning = document.getElementById("certificate-warning");
      warning.textContent = certificate ? certificate.warning : "";
      warning.hidden = !(certificate && certificate.warning);
      if (result.alias && (aliasInput.value === "" || aliasInput.value === proposed)) {
        aliasInput.value = result.alias;
        aliasNote.textContent = result.alias_note || "";
      }
      proposed = result.alias || proposed;
      showError("certificate_file", errors.certificate_file);
    }
    if (sent.key) {
      setText("key_details", result.key_details);
      showError("key_file", errors.key_file);
      showError("key_password", errors.key_password);
    } else if (errors.key_file) {
      showError("key_file", errors.key_file); // the pair does not match
    }
  }

  async function preview() {
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.elements.namedItem("csrfmiddlewaretoken").value);
    const sent = { certificate: false, key: false };
    if (certificateInput.files.length) {
      data.append("certificate_file", certificateInput.files[0]);
      sent.certificate = true;
    } else if (carriedInput.value) {
      data.append("certificate_pem", carriedInput.value);
      sent.certificate = true;
    }
    if (keyInput.files.length) {
      data.append("key_file", keyInput.files[0]);
      sent.key = true;
      if (passwordInput.value) {
        data.append("key_password", passwordInput.value);
      }
    }
    if (!sent.certificate && !sent.key) {
      return;
    }
    const request = ++latest;
    form.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (request !== latest) {
        return; // a newer choice is being read
      }
      const result = await response.json().catch(() => null);
      if (!response.ok && result && result.error) {
        // The portal refused the request itself (e.g. too large): its reason, where the file was chosen.
        showError(sent.certificate ? "certificate_file" : "key_file", result.error);
        return;
      }
      if (!response.ok || !result) {
        throw new Error(String(response.status));
      }
      apply(result, sent);
    } catch {
      if (request === latest) {
        showError(sent.certificate ? "certificate_file" : "key_file",
          "The file could not be read just now; press Save to check it, or choose it again.");
      }
    } finally {
      if (request === latest) {
        form.removeAttribute("aria-busy");
      }
    }
  }

  certificateInput.addEventListener("change", () => {
    // A newly chosen certificate replaces one carried from an earlier round trip.
    carriedInput.value = "";
    const note = document.getElementById("carried-note");
    if (note) {
      note.remove();
    }
    if (!certificateInput.files.length) {
      for (const field of fields) {
        setText(field, "");
      }
    }
    preview();
  });
  keyInput.addEventListener("change", () => {
    if (!keyInput.files.length) {
      setText("key_details", "");
    }
    preview();
  });
  passwordInput.addEventListener("change", () => {
    if (keyInput.files.length) {
      preview();
    }
  });
})();
