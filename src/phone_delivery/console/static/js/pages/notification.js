// One notification with every attempt, followed until its status is final.
import { envPath, get } from '../api.js';
import { context } from '../context.js';
import { announce, badge, definitions, h, time } from '../dom.js';
import { explain } from '../error_codes.js';

const FINAL = new Set(['DELIVERED', 'UNDELIVERED', 'FAILED']);
const REFRESH_MS = 1000;
const FOLLOW_FOR_MS = 10 * 60 * 1000;

export async function render(main, [envId, notificationId]) {
  const env = await get(envPath(envId));
  context.environmentNames.set(envId, env.name);
  main.append(h('p', { class: 'crumbs' }, h('a', { href: `#/env/${envId}/notifications` }, `Notifications of ${env.name}`)),
    h('h1', {}, 'Notification'));
  const view = h('div', {});
  main.append(view);
  const started = Date.now();
  let timer = null;
  let stopped = false;
  let lastStatus = null;

  async function refresh() {
    const n = await get(envPath(envId, `/notifications/${encodeURIComponent(notificationId)}`));
    draw(view, envId, n);
    if (n.status !== lastStatus) {
      if (lastStatus !== null) announce(`Status: ${n.status}.`);
      lastStatus = n.status;
    }
    if (!stopped && !FINAL.has(n.status) && Date.now() - started < FOLLOW_FOR_MS) timer = setTimeout(refresh, REFRESH_MS);
  }
  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function senderWords(n) {
  // The attempts name their sender while it exists; the notification itself carries its id.
  const name = n.attempts?.find((a) => a.sender?.id === n.sender.id && a.sender.name)?.sender.name ?? n.sender.id;
  const provider = n.sender.provider && n.sender.provider !== name ? ` (${n.sender.provider})` : '';
  return `${name}${provider}`;
}

function draw(view, envId, n) {
  const provider = n.sender?.provider ?? '';
  view.replaceChildren(
    h('p', { class: 'status-line' }, 'Status: ', h('span', { id: 'notification-status' }, badge(n.status)),
      FINAL.has(n.status) ? '' : h('span', { class: 'muted' }, ' (following…)')),
    definitions([
      ['To', h('span', { class: 'mono' }, n.to)],
      ['Delivery method', n.deliveryMethod],
      ['Sender', n.sender ? senderWords(n) : null],
      ['Provider message id', n.providerMessageId],
      ['Error', n.error ? `${n.error.code ? `${n.error.code}: ` : ''}${n.error.message ?? ''}` : null],
      ['In words', n.error ? explain(n.error.code, provider) : null],
      ['ID', h('span', { class: 'mono' }, n.id)],
      ['Created', time(n.createdAt)],
      ['Updated', time(n.updatedAt)],
    ]),
    h('h2', {}, 'Attempts'),
    n.attempts?.length
      ? h('div', { class: 'scroll' }, h('table', { class: 'list', id: 'attempts' },
        h('thead', {}, h('tr', {}, ['Started', 'Sender', 'Provider', 'Outcome', 'Provider message id', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, n.attempts.map((a) => h('tr', {},
          h('td', {}, time(a.startedAt), a.finishedAt ? h('div', { class: 'muted' }, `${Math.max(0, Date.parse(a.finishedAt) - Date.parse(a.startedAt))} ms`) : ''),
          h('td', {}, a.sender?.name ?? a.sender?.id ?? ''),
          h('td', {}, a.provider ?? ''),
          h('td', {}, badge(a.outcome)),
          h('td', { class: 'mono nowrap' }, a.providerMessageId ?? ''),
          h('td', {}, a.errorCode || a.errorMessage
            ? [h('div', {}, `${a.errorCode ? `${a.errorCode}: ` : ''}${a.errorMessage ?? ''}`),
              explain(a.errorCode, a.provider ?? '') ? h('div', { class: 'explained' }, explain(a.errorCode, a.provider ?? '')) : null]
            : ''))))))
      : h('p', {}, 'No attempt yet.'),
  );
}
