// Environments the signed-in application administers, with their senders and today's notifications.
import { collect, envPath, get, post, sendersPath } from '../api.js';
import { navigate } from '../navigation.js';
import { context } from '../context.js';
import { clearErrors, errorBox, field, h, showErrors, time } from '../dom.js';

function startOfToday() {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
}

// One page of today's notifications, at most: counting further is not worth reading them all on
// every visit, so beyond it the count is shown as "1000+".
const COUNTED = 1000;

async function counts(env) {
  const [senders, today] = await Promise.all([
    get(sendersPath(env.id)),
    get(`${envPath(env.id, '/notifications')}?limit=${COUNTED}&since=${encodeURIComponent(startOfToday())}`),
  ]);
  const items = today?._embedded?.notifications ?? [];
  const sent = today?._links?.next ? `${items.length}+` : String(items.length);
  return { senders: String(senders?._embedded?.phoneDeliverySettings?.length ?? 0), today: sent };
}

export async function render(main) {
  main.append(h('h1', {}, 'Environments'));
  const table = h('table', { class: 'list' },
    h('caption', { class: 'visually-hidden' }, 'Environments, with their senders and the notifications sent today'),
    h('thead', {}, h('tr', {}, ['Name', 'Senders', 'Notifications today', 'Created'].map((t) => h('th', { scope: 'col' }, t)))));
  const body = h('tbody');
  table.append(body);
  main.append(h('div', { class: 'scroll' }, table));

  const found = await collect('/v1/environments', 'environments', 5);
  for (const env of found.items) {
    context.environmentNames.set(env.id, env.name);
    const sendersCell = h('td', { class: 'num' }, '…');
    const todayCell = h('td', { class: 'num' }, '…');
    body.append(h('tr', { 'data-environment': env.id },
      h('th', { scope: 'row' }, h('a', { href: `#/env/${env.id}/senders` }, env.name),
        env.description ? h('div', { class: 'muted' }, env.description) : null),
      sendersCell, todayCell, h('td', {}, time(env.createdAt))));
    counts(env).then(
      (c) => { sendersCell.textContent = c.senders; todayCell.textContent = c.today; },
      (error) => { sendersCell.textContent = '—'; todayCell.textContent = '—'; sendersCell.title = error.message; },
    );
  }
  if (!found.items.length) main.append(h('p', {}, 'This application administers no environment.'));

  const form = h('form', { class: 'card', 'aria-labelledby': 'new-env-title', novalidate: true },
    h('h2', { id: 'new-env-title' }, 'New environment'),
    h('p', { class: 'muted' }, 'Only an Organization Admin may create environments; the API says so otherwise.'),
    errorBox(),
    field({ label: 'Name', name: 'name', required: true }),
    field({ label: 'Description', name: 'description' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create environment')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const name = form.elements.name.value.trim();
    const description = form.elements.description.value.trim();
    try {
      const env = await post('/v1/environments', { name, ...(description ? { description } : {}) });
      navigate(`#/env/${env.id}/senders`, { message: `Environment ${env.name} created.` });
    } catch (error) {
      showErrors(form, error);
    }
  });
  main.append(form);
}
