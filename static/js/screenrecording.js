// Screen Recording Certificates: open "Select Certificate" as a modal dialog in place, without a round trip.
// Without JavaScript the same buttons submit the form and the server shows the window; nothing is saved until Save.
(() => {
  const dialog = document.getElementById("select-certificate");
  const opener = document.getElementById("open-add");
  if (!(dialog instanceof HTMLDialogElement) || !opener || typeof dialog.showModal !== "function") {
    return;
  }
  const clearPicks = () => {
    dialog.querySelectorAll('input[name="pick"]').forEach((box) => {
      box.checked = false;
    });
  };
  if (dialog.open) {
    // Opened by the server (for example after "Add" with nothing checked): make it modal.
    dialog.close();
    dialog.showModal();
  }
  opener.addEventListener("click", (event) => {
    event.preventDefault();
    clearPicks();
    dialog.showModal();
  });
  const cancel = dialog.querySelector('button[name="close_add"]');
  if (cancel) {
    cancel.addEventListener("click", (event) => {
      event.preventDefault();
      dialog.close();
    });
  }
  dialog.addEventListener("close", clearPicks);
})();
