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
