// Progressive enhancement only: every page works without this file.
import DS from '/static/sgds/scripts/design-system.js';

document.documentElement.classList.add('js-enabled');
DS.initAll();
document.querySelector('.ds_error-summary')?.focus();

// htmx 4 fires htmx:after:process on each element it swaps in. initAll only looks at
// descendants of its scope, so start from the parent; it skips components already set up.
document.addEventListener('htmx:after:process', (event) => {
  const root = event.target.parentElement || document;
  DS.initAll(root);
  root.querySelector('.ds_error-summary')?.focus();
});

// A form marked data-app-focus-after-swap="#id" (the search) moves the focus to its answer
// once htmx has swapped it in, so keyboard and screen reader users land on the results.
// htmx 4 fires htmx:after:swap on the form itself. An error summary keeps the focus.
document.addEventListener('htmx:after:swap', (event) => {
  const form = event.target instanceof Element ? event.target.closest('[data-app-focus-after-swap]') : null;
  if (!form || document.querySelector('.ds_error-summary')) return;
  document.querySelector(form.dataset.appFocusAfterSwap)?.focus();
});
