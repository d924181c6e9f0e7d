// The audit trail: GET .../activities, filtered by action type, newest first, page by page.
import { envPath, get } from '../api.js';
import { context } from '../context.js';
import { errorBox, field, h, showErrors, time } from '../dom.js';
import { navigate } from '../navigation.js';

const ACTION_TYPES = [
  'PHONE_DELIVERY_SETTINGS.CREATED', 'PHONE_DELIVERY_SETTINGS.UPDATED', 'PHONE_DELIVERY_SETTINGS.DELETED',
  'NOTIFICATIONS_SETTINGS.UPDATED', 'NOTIFICATION.CREATED', 'NOTIFICATION.UPDATED',
];

export async function render(main, [envId], query) {
  const env = await get(envPath(envId));
  context.environmentNames.set(envId, env.name);
  main.append(h('h1', {}, `Activities of ${env.name}`));
  const actionType = query.get('actionType') ?? '';
  const filters = h('form', { class: 'card filters', role: 'search', 'aria-label': 'Filter activities', novalidate: true }, errorBox(),
    h('div', { class: 'filter-grid' },
      field({ label: 'Action type', name: 'actionType', value: actionType, options: [['', 'Any'], ...ACTION_TYPES.map((t) => [t, t])] })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filter')));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = filters.elements.actionType.value;
    navigate(`#/env/${envId}/activities${value ? `?actionType=${encodeURIComponent(value)}` : ''}`);
  });
  main.append(filters);

  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older');
  main.append(h('div', { class: 'scroll' }, h('table', { class: 'list', id: 'activities' },
    h('caption', { class: 'visually-hidden' }, 'Activities, newest first'),
    h('thead', {}, h('tr', {}, ['When', 'Action', 'Resource', 'Actor', 'Description'].map((t) => h('th', { scope: 'col' }, t)))),
    body)), more);

  let next = `${envPath(envId, '/activities')}?limit=50${actionType ? `&actionType=${encodeURIComponent(actionType)}` : ''}`;
  async function page() {
    try {
      const answer = await get(next);
      const items = answer?._embedded?.activities ?? [];
      for (const a of items) {
        const resource = a.resources?.[0];
        const actor = a.actors?.client;
        body.append(h('tr', {},
          h('td', {}, time(a.recordedAt)),
          h('td', { class: 'mono nowrap' }, a.action?.type ?? ''),
          h('td', {}, resource ? `${resource.type} ${resource.name ?? resource.id}` : ''),
          h('td', {}, actor ? `${actor.name ?? actor.id ?? ''} (${actor.type})` : ''),
          h('td', {}, a.action?.description ?? '')));
      }
      if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 5 }, 'No activity matches.')));
      next = answer?._links?.next?.href ?? null;
      more.hidden = !next;
    } catch (error) {
      showErrors(filters, error);
    }
  }
  more.addEventListener('click', page);
  await page();
}
