// The delivery log: GET .../notifications with its filters (to, status, sender, deliveryMethod,
// since, until), refreshed every few seconds; and a form to send a message through the chain.
import { envPath, get, post, sendersPath } from '../api.js';
import { context } from '../context.js';
import { badge, clearErrors, errorBox, field, h, showErrors, time } from '../dom.js';
import { describeError } from '../error_codes.js';
import { navigate } from '../navigation.js';
import { policiesPath } from '../policy_words.js';

const STATUSES = ['QUEUED', 'SENDING', 'SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED'];
const FILTERS = ['to', 'status', 'sender', 'deliveryMethod', 'since', 'until'];
const REFRESH_MS = 2000;

export async function render(main, [envId], query) {
  const [env, list, policyList] = await Promise.all([get(envPath(envId)), get(sendersPath(envId)),
    get(policiesPath(envId)).catch(() => null)]); // without the policies, the send form still sends by default
  context.environmentNames.set(envId, env.name);
  const senders = new Map((list?._embedded?.phoneDeliverySettings ?? []).map((s) => [s.id, s.name]));
  senders.set('PINGONE_TWILIO', 'PINGONE_TWILIO');
  main.append(h('h1', {}, `Notifications of ${env.name}`));
  main.append(sendForm(envId, policyList?._embedded?.notificationsPolicies ?? []));

  const filters = h('form', { class: 'card filters', novalidate: true, role: 'search', 'aria-label': 'Filter the delivery log' },
    h('h2', {}, 'Delivery log'), errorBox(),
    h('div', { class: 'filter-grid' },
      field({ label: 'Recipient', name: 'to', type: 'tel', value: query.get('to') ?? '', placeholder: '+14155552671' }),
      field({ label: 'Status', name: 'status', value: query.get('status') ?? '', options: [['', 'Any'], ...STATUSES.map((s) => [s, s])] }),
      field({ label: 'Sender', name: 'sender', value: query.get('sender') ?? '', options: [['', 'Any'], ...[...senders].map(([id, name]) => [id, name])] }),
      field({ label: 'Delivery method', name: 'deliveryMethod', value: query.get('deliveryMethod') ?? '', options: [['', 'Any'], ['SMS', 'SMS'], ['VOICE', 'Voice']] }),
      field({ label: 'Since', name: 'since', type: 'datetime-local', value: query.get('since') ?? '' }),
      field({ label: 'Until', name: 'until', type: 'datetime-local', value: query.get('until') ?? '' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters'),
      h('a', { href: `#/env/${envId}/notifications`, class: 'button secondary' }, 'Clear filters')));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = filters.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    navigate(`#/env/${envId}/notifications${params.size ? `?${params}` : ''}`);
  });
  main.append(filters);

  const live = h('input', { type: 'checkbox', id: 'live', checked: true });
  const state = h('p', { class: 'muted', 'aria-live': 'off' });
  const body = h('tbody');
  let limit = 50;
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => { limit = Math.min(limit + 50, 1000); refresh(); } }, 'Show more');
  main.append(h('div', { class: 'live-row' }, h('div', { class: 'check' }, live, h('label', { for: 'live' }, 'Update live')), state),
    h('div', { class: 'scroll' }, h('table', { class: 'list', id: 'log' },
      h('caption', { class: 'visually-hidden' }, 'Notifications, newest first'),
      h('thead', {}, h('tr', {}, ['Created', 'To', 'Method', 'Status', 'Sender', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
      body)), more);

  const apiQuery = new URLSearchParams();
  for (const name of FILTERS) {
    const value = query.get(name);
    if (!value) continue;
    apiQuery.set(name, name === 'since' || name === 'until' ? new Date(value).toISOString() : value);
  }
  let timer = null;
  let stopped = false;
  async function refresh() {
    clearTimeout(timer);
    apiQuery.set('limit', String(limit));
    try {
      const page = await get(`${envPath(envId, '/notifications')}?${apiQuery}`);
      clearErrors(filters);
      const rows = page?._embedded?.notifications ?? [];
      body.replaceChildren(...rows.map((n) => row(envId, n, senders)));
      if (!rows.length) body.append(h('tr', {}, h('td', { colspan: 6 }, 'No notification matches.')));
      more.hidden = !page?._links?.next || limit >= 1000;
      state.textContent = `${rows.length} shown, updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      showErrors(filters, error);
      return; // a bad filter: no point asking again
    }
    if (!stopped && live.checked) timer = setTimeout(refresh, REFRESH_MS);
  }
  live.addEventListener('change', () => {
    if (live.checked) refresh();
    else clearTimeout(timer);
  });
  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function row(envId, n, senders) {
  const senderId = n.sender?.id;
  const code = n.error?.code;
  return h('tr', { 'data-notification': n.id },
    h('td', {}, h('a', { href: `#/env/${envId}/notifications/${n.id}`, 'aria-label': `Notification to ${n.to}, ${n.status}` }, time(n.createdAt))),
    h('td', { class: 'mono nowrap' }, n.to),
    h('td', {}, n.deliveryMethod),
    h('td', {}, badge(n.status)),
    h('td', {}, senderId ? senders.get(senderId) ?? senderId : ''),
    h('td', {}, n.error ? describeError(code, n.sender?.provider ?? '', n.error.message) : ''));
}

function sendForm(envId, policies) {
  const byDefault = policies.find((p) => p.default);
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'send-title' },
    h('h2', { id: 'send-title' }, 'Send a message'),
    h('p', { class: 'muted' }, 'Through the fallback chain (or the policy\'s senders), like any client of POST …/notifications.'),
    errorBox(),
    h('div', { class: 'filter-grid' },
      field({ label: 'To', name: 'to', type: 'tel', required: true, help: 'International format, e.g. +14155552671.' }),
      field({ label: 'Delivery method', name: 'deliveryMethod', value: 'SMS', options: [['SMS', 'SMS'], ['VOICE', 'Voice']] }),
      field({ label: 'Message', name: 'message', required: true, value: 'Your code is 123456' }),
      field({ label: 'Policy', name: 'policy', target: 'policy.id', value: '', help: byDefault ? `The default: ${byDefault.name}.` : null, options: [
        ['', 'The default policy'],
        ...policies.filter((p) => !p.default).map((p) => [p.id, p.name])] })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const v = (name) => form.querySelector(`[data-target="${name}"]`).value.trim();
    try {
      const body = { to: v('to'), deliveryMethod: v('deliveryMethod'), message: v('message') };
      if (v('policy.id')) body.policy = { id: v('policy.id') };
      const sent = await post(envPath(envId, '/notifications'), body);
      navigate(`#/env/${envId}/notifications/${sent.id}`, { message: `Message to ${sent.to} accepted: ${sent.status}.` });
    } catch (error) {
      showErrors(form, error);
    }
  });
  return form;
}
