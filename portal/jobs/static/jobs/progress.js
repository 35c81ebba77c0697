// Follows a running job on its page: asks for its progress every two seconds and reloads the page once it is done.
(() => {
  const section = document.getElementById("job-progress");
  if (!section) return;
  const url = section.dataset.progressUrl;
  const show = (selector, text) => {
    const el = section.querySelector(selector);
    if (el) el.textContent = text;
  };
  const poll = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const job = response.ok ? await response.json() : null;
      if (job && job.finished) {
        window.location.reload();
        return;
      }
      if (job) update(job);
    } catch (error) {
      // The next poll tries again; the page's Refresh link still works.
    }
    window.setTimeout(poll, 2000);
  };
  const update = (job) => {
    show("[data-job-state]", job.state_text);
    show("[data-job-count]", job.total ? `${job.done} of ${job.total} done` : "");
    show("[data-job-message]", job.message);
    const bar = section.querySelector("[data-job-bar]");
    if (bar) {
      bar.max = job.total || 1;
      bar.value = job.done;
    }
  };
  window.setTimeout(poll, 2000);
})();
