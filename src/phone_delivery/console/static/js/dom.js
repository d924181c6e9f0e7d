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
  return h('div', { class: 'form-error', role: 'alert', hidden: true });
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
 * Show an API error inside `form`: each detail next to the field its target names (or the nearest
 * enclosing one), the rest in the form's error box; the first field in error gets the focus.
 */
export function showErrors(form, error) {
  clearErrors(form);
  const box = form.querySelector('.form-error');
  const details = error.details ?? [];
  const unplaced = [];
  let first = null;
  for (const detail of details) {
    const input = detail.target ? inputFor(form, detail.target) : null;
    if (!input) {
      unplaced.push(detail.target ? `${detail.target}: ${detail.message}` : detail.message);
      continue;
    }
    let slot = input.id ? form.querySelector(`[data-error-for="${input.id}"]`) : null;
    if (!slot) { // a radio button or a row: its group's slot
      const group = input.parentElement?.closest('fieldset[data-target]');
      slot = group ? form.querySelector(`[data-error-for="${group.id}"]`) : null;
    }
    if (!slot) {
      unplaced.push(detail.target ? `${detail.target}: ${detail.message}` : detail.message);
      continue;
    }
    const shown = input.dataset.target === detail.target ? detail.message : `${detail.target}: ${detail.message}`;
    slot.textContent = slot.textContent ? `${slot.textContent} ${shown}` : shown;
    slot.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    first = first ?? input;
  }
  if (box) {
    box.append(h('p', {}, error.message));
    if (unplaced.length) box.append(h('ul', {}, unplaced.map((text) => h('li', {}, text))));
    box.hidden = false;
  }
  (first ?? box)?.focus?.();
  announce(details.length ? `${error.message} ${details.map((d) => d.message).join(' ')}` : error.message, 'error');
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
