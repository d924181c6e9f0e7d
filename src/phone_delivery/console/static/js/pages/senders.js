// The senders (phoneDeliverySettings) of an environment.
import { del, envPath, get, sendersPath } from '../api.js';
import { context } from '../context.js';
import { announce, h, showProblem } from '../dom.js';
import { KINDS, kindLabel, selectionSummary } from '../sender_kinds.js';
import { deleteHelp } from './sender_edit.js';

export async function render(main, [envId]) {
  const [env, list] = await Promise.all([get(envPath(envId)), get(sendersPath(envId))]);
  context.environmentNames.set(envId, env.name);
  const senders = list?._embedded?.phoneDeliverySettings ?? [];
  // What a failed delete says (the API's details too: which chain entry holds the sender).
  const region = h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  main.append(h('h1', {}, `Senders of ${env.name}`), region);

  if (senders.length) {
    const body = h('tbody');
    for (const sender of senders) {
      const remove = h('button', {
        type: 'button', class: 'danger', 'aria-label': `Delete ${sender.name}`,
        onclick: async () => {
          if (!window.confirm(`Delete the sender ${sender.name}?`)) return;
          region.hidden = true;
          try {
            await del(sendersPath(envId, sender.id));
            announce(`Sender ${sender.name} deleted.`);
            row.remove();
          } catch (error) {
            announce('');
            showProblem(region, error, deleteHelp(envId, error));
          }
        },
      }, 'Delete');
      const row = h('tr', { 'data-sender': sender.id },
        h('th', { scope: 'row' }, h('a', { href: `#/env/${envId}/senders/${sender.id}` }, sender.name)),
        h('td', {}, kindLabel(sender.provider), h('div', { class: 'muted mono' }, sender.provider)),
        h('td', {}, selectionSummary(sender)),
        // The cell stays a table cell (its border in line with the row's); the buttons' box is inside.
        h('td', {}, h('div', { class: 'row-actions' }, h('a', { href: `#/env/${envId}/senders/${sender.id}`, class: 'button secondary',
          'aria-label': `Edit or test ${sender.name}` }, 'Edit / test'), remove)));
      body.append(row);
    }
    main.append(h('div', { class: 'scroll' }, h('table', { class: 'list' },
      h('caption', { class: 'visually-hidden' }, 'Senders'),
      h('thead', {}, h('tr', {}, ['Name', 'Provider', 'Sends with', ''].map((t) => h('th', { scope: 'col' }, t)))),
      body)));
  } else {
    main.append(h('p', {}, 'No sender yet: messages go through PINGONE_TWILIO, the platform default sender.'));
  }

  main.append(h('section', { class: 'add-sender', 'aria-labelledby': 'add-title' },
    h('h2', { id: 'add-title' }, 'Add a sender'),
    h('ul', { class: 'kinds' }, Object.entries(KINDS).map(([provider, kind]) => h('li', {},
      h('a', { href: `#/env/${envId}/senders/new/${provider}` }, kind.label),
      h('span', { class: 'muted' }, ` ${kind.summary}`))))));
}
