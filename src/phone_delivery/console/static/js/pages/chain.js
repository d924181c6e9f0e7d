// The fallback chain: notificationsSettings.smsProvidersFallbackChain, by sender name. Reorder with
// the Up/Down buttons (keyboard), add a sender or PINGONE_TWILIO, remove one; Save PUTs the settings.
import { envPath, get, put, sendersPath } from '../api.js';
import { context } from '../context.js';
import { announce, clearErrors, errorBox, h, nextId, showErrors } from '../dom.js';
import { kindLabel } from '../sender_kinds.js';

const PINGONE_TWILIO = 'PINGONE_TWILIO';
const KEPT = ['deliveryMode', 'smsProvidersFallbackChain', 'whitelist', 'from', 'replyTo'];

export async function render(main, [envId]) {
  const settingsPath = envPath(envId, '/notificationsSettings');
  const [env, settings, list] = await Promise.all([get(envPath(envId)), get(settingsPath), get(sendersPath(envId))]);
  context.environmentNames.set(envId, env.name);
  const senders = new Map((list?._embedded?.phoneDeliverySettings ?? []).map((s) => [s.id, s]));
  let chain = [...settings.smsProvidersFallbackChain];
  const describe = (entry) => entry === PINGONE_TWILIO
    ? { name: 'PINGONE_TWILIO', detail: 'the platform default sender' }
    : { name: senders.get(entry)?.name ?? entry, detail: senders.has(entry) ? kindLabel(senders.get(entry).provider) : 'not a sender of this environment' };

  main.append(h('h1', {}, `Fallback chain of ${env.name}`),
    h('p', {}, 'SMS and voice messages try these senders in order: the next one when a sender fails for a reason that is not the recipient. An empty chain means PINGONE_TWILIO alone.'));
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Fallback chain' }, errorBox());
  const listEl = h('ol', { class: 'chain', 'aria-label': 'Senders in order' });
  const addSelect = h('select', { id: nextId('add') });
  const addField = h('div', { class: 'field inline-add' }, h('label', { for: addSelect.id }, 'Add to the end'), addSelect,
    h('button', { type: 'button', class: 'secondary', onclick: () => {
      if (!addSelect.value) return;
      chain.push(addSelect.value);
      draw(`${describe(addSelect.value).name} added at position ${chain.length}.`);
    } }, 'Add'));
  const save = h('button', { type: 'submit' }, 'Save the chain');
  form.append(listEl, addField, h('div', { class: 'actions' }, save));
  main.append(form);

  function move(index, by, focusWhich) {
    const [entry] = chain.splice(index, 1);
    chain.splice(index + by, 0, entry);
    draw(`${describe(entry).name} moved to position ${index + by + 1}.`, index + by, focusWhich);
  }

  function draw(message = null, focusIndex = null, focusWhich = null) {
    clearErrors(form);
    listEl.replaceChildren(...chain.map((entry, i) => {
      const { name, detail } = describe(entry);
      const errorId = nextId('e');
      const id = nextId('item');
      return h('li', { id, 'data-target': `smsProvidersFallbackChain[${i}]`, 'data-entry': entry, tabindex: '-1', 'aria-describedby': errorId },
        h('span', { class: 'chain-name' }, name), h('span', { class: 'muted' }, ` ${detail}`),
        h('span', { class: 'chain-buttons' },
          h('button', { type: 'button', class: 'secondary', 'data-move': 'up', disabled: i === 0, 'aria-label': `Move ${name} up`, onclick: () => move(i, -1, 'up') }, '↑ Up'),
          h('button', { type: 'button', class: 'secondary', 'data-move': 'down', disabled: i === chain.length - 1, 'aria-label': `Move ${name} down`, onclick: () => move(i, 1, 'down') }, '↓ Down'),
          h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${name}`, onclick: () => {
            chain.splice(i, 1);
            draw(`${name} removed from the chain.`);
          } }, 'Remove')),
        h('p', { class: 'field-error', id: errorId, 'data-error-for': id, hidden: true }));
    }));
    if (!chain.length) listEl.append(h('li', { class: 'muted' }, 'Empty: PINGONE_TWILIO alone.'));
    const candidates = [...senders.values()].filter((s) => !chain.includes(s.id)).map((s) => [s.id, `${s.name} (${kindLabel(s.provider)})`]);
    if (!chain.includes(PINGONE_TWILIO)) candidates.push([PINGONE_TWILIO, 'PINGONE_TWILIO (platform default sender)']);
    addSelect.replaceChildren(...candidates.map(([value, text]) => h('option', { value }, text)));
    addField.hidden = candidates.length === 0;
    if (focusIndex !== null) {
      const item = listEl.children[focusIndex];
      const button = item?.querySelector(`[data-move="${focusWhich}"]:not([disabled])`) ?? item?.querySelector('button:not([disabled])');
      button?.focus();
    }
    if (message) announce(`${message} Not saved yet.`);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(KEPT.filter((k) => settings[k] !== undefined).map((k) => [k, settings[k]]));
    body.smsProvidersFallbackChain = chain;
    save.disabled = true;
    try {
      const saved = await put(settingsPath, body);
      chain = [...saved.smsProvidersFallbackChain];
      draw();
      announce(`Fallback chain saved: ${chain.map((e) => describe(e).name).join(', ') || 'empty (PINGONE_TWILIO alone)'}.`);
    } catch (error) {
      showErrors(form, error);
    } finally {
      save.disabled = false;
    }
  });
  draw();
}
