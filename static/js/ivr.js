// IVR profile page: a "Copy" button next to each certificate of the Annex section. The text stays selectable (and the
// section downloadable) without JavaScript; the buttons exist only where they work.
(() => {
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll("pre[data-copy-label]").forEach((pre) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", pre.dataset.copyLabel);
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(pre.textContent).then(
        () => {
          button.textContent = "Copied";
        },
        () => {
          button.textContent = "Copy failed: select the text instead";
        },
      );
    });
    pre.before(button);
  });
})();
