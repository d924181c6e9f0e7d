// Building the page. Every piece of text goes in through textContent or an attribute value, never
// through innerHTML, so nothing an API returns can become markup or script.

let uid = 0;

/** h('button', {class: 'x', onclick: fn, 'aria-label': 'y'}, 'text', child) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'readOnly') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Announce to screen readers (and show) what just happened. */
export function announce(message, kind = 'info') {
  const status = document.getElementById('status');
  status.textContent = message;
  status.dataset.kind = kind;
}

/**
 * A labelled input with a place for its error. `target` is the API field it stands for (as PingOne's
 * error details name it: "name", "authentication.username", "requests[0].url"), so an error whose
 * target names that field appears right next to it.
 */
export function field({ label, name, target, type = 'text', value = '', required = false, help, options,
  autocomplete = 'off', readOnly = false, placeholder, rows }) {
  const id = nextId('f');
  const errorId = `${id}-error`;
  const helpId = help ? `${id}-help` : null;
  const described = [helpId, errorId].filter(Boolean).join(' ');
  let input;
  const common = { id, name, 'data-target': target ?? name, 'aria-describedby': described, required };
  if (options) {
    input = h('select', common, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  } else if (type === 'textarea') {
    input = h('textarea', { ...common, rows: rows ?? 4, placeholder, readOnly }, '');
    input.value = value ?? '';
  } else {
    input = h('input', { ...common, type, value: value ?? '', autocomplete, readOnly, placeholder, spellcheck: 'false' });
  }
  return h('div', { class: 'field' },
    // The mark is outside the label: the input's name stays the label's words (required is an attribute).
    h('div', { class: 'label-line' }, h('label', { for: id }, label),
      required ? h('span', { class: 'req', 'aria-hidden': 'true', title: 'required' }, '*') : null),
    input,
    help ? h('p', { class: 'help', id: helpId }, help) : null,
    h('p', { class: 'field-error', id: errorId, 'data-error-for': id, hidden: true }));
}

/** A checkbox with its label on the right. */
export function checkbox({ label, name, target, checked = false }) {
  const id = nextId('c');
  const errorId = `${id}-error`;
  return h('div', { class: 'field check' },
    h('input', { type: 'checkbox', id, name, checked, 'data-target': target ?? name, 'aria-describedby': errorId }),
    h('label', { for: id }, label),
    h('p', { class: 'field-error', id: errorId, 'data-error-for': id, hidden: true }));
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function errorBox() {
  return h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
}

/** A detail's words: its message, naming its target when the message does not already. */
function detailText(detail) {
  if (!detail.target || detail.message?.includes(detail.target)) return detail.message;
  return `${detail.target}: ${detail.message}`;
}

/**
 * An alert region for an error that belongs to no form field (a failed delete on a list, a page
 * that could not load): the API's message and every detail it sent, then `extra` (links onward).
 */
export function problem(error, extra = []) {
  const details = [...new Set((error.details ?? []).map(detailText).filter(Boolean))];
  return h('div', { class: 'form-error problem', role: 'alert', tabindex: '-1' },
    h('p', {}, error.message),
    details.length ? h('ul', {}, details.map((text) => h('li', {}, text))) : null,
    extra.length ? h('p', {}, extra) : null);
}

/** Show `problem(error, extra)` in `region` (replacing what it showed) and move the focus to it. */
export function showProblem(region, error, extra = []) {
  const shown = problem(error, extra);
  region.replaceChildren(...shown.childNodes);
  region.hidden = false;
  region.focus();
}

/** Take away the error shown for one field: it was edited or filled in again. */
export function clearFieldError(input) {
  const form = input?.closest?.('form');
  if (!form || !input.dataset?.target) return;
  const own = input.id ? form.querySelector(`[data-error-for="${input.id}"]`) : null;
  const group = input.parentElement?.closest('fieldset[data-target]');
  const slot = own ?? (group ? form.querySelector(`[data-error-for="${group.id}"]`) : null);
  if (slot) {
    slot.hidden = true;
    slot.textContent = '';
  }
  input.removeAttribute('aria-invalid');
  if (!own && group) for (const el of group.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** Remove every error shown in `form`. */
export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const box = form.querySelector('.form-error');
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
}

// "requests[0].headers.Content-Type" -> itself, "requests[0].headers", "requests[0]", "requests".
function widenings(target) {
  const out = [target];
  let rest = target;
  while (true) {
    const cut = Math.max(rest.lastIndexOf('.'), rest.lastIndexOf('['));
    if (cut <= 0) break;
    rest = rest.slice(0, cut);
    out.push(rest);
  }
  return out;
}

function inputFor(form, target) {
  for (const candidate of widenings(target)) {
    for (const el of form.querySelectorAll('[data-target]')) {
      if (el.dataset.target === candidate) return el;
    }
  }
  return null;
}

/**
 * Show an API error inside `form`, each piece once: a detail under the field its target names (or
 * the nearest enclosing one); details that match no field, or an error without details, once in the
 * form's error box. The first field in error (else the box) gets the focus, which reads the error
 * out (aria-describedby, role=alert); the status line is not used for it.
 */
export function showErrors(form, error) {
  clearErrors(form);
  announce(''); // the progress line ("Signing in…") is over
  const unplaced = [];
  let first = null;
  for (const detail of error.details ?? []) {
    const input = detail.target ? inputFor(form, detail.target) : null;
    let slot = input?.id ? form.querySelector(`[data-error-for="${input.id}"]`) : null;
    if (input && !slot) { // a radio button or a row: its group's slot
      const group = input.parentElement?.closest('fieldset[data-target]');
      slot = group ? form.querySelector(`[data-error-for="${group.id}"]`) : null;
    }
    if (!slot) {
      unplaced.push(detailText(detail));
      continue;
    }
    const shown = input.dataset.target === detail.target ? detail.message : detailText(detail);
    if (!slot.textContent.includes(shown)) slot.textContent = slot.textContent ? `${slot.textContent} ${shown}` : shown;
    slot.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    first = first ?? input;
  }
  const box = form.querySelector('.form-error');
  if (unplaced.length || !first) {
    if (box) {
      box.append(h('p', {}, error.message));
      const listed = [...new Set(unplaced.filter((text) => text && text !== error.message))];
      if (listed.length) box.append(h('ul', {}, listed.map((text) => h('li', {}, text))));
      box.hidden = false;
    } else {
      announce([error.message, ...unplaced].join(' '), 'error');
    }
  }
  (first ?? box)?.focus?.();
}

/** A `<dl>` from [term, description] pairs (descriptions may be nodes). */
export function definitions(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

export function time(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return h('time', { datetime: iso, title: iso }, date.toLocaleString());
}

export function badge(status) {
  return h('span', { class: `badge badge-${String(status).toLowerCase()}` }, status);
}

export function link(href, text, props = {}) {
  return h('a', { href, ...props }, text);
}
