// The notification policies (notificationsPolicies) of an environment: one row each, the default
// marked, with what it limits in a few words; New policy opens the editor with an example.
import { envPath, get } from '../api.js';
import { context } from '../context.js';
import { h } from '../dom.js';
import { countryLimitWords, policiesPath, quotaWords } from '../policy_words.js';

export async function render(main, [envId]) {
  const [env, list] = await Promise.all([get(envPath(envId)), get(policiesPath(envId))]);
  context.environmentNames.set(envId, env.name);
  const policies = list?._embedded?.notificationsPolicies ?? [];
  main.append(h('h1', {}, `Policies of ${env.name}`),
    h('p', {}, 'A send uses the policy its policy.id names, else the default one: quotas, the countries it may go to, the senders per country, cooldowns.'),
    h('p', {}, h('a', { href: `#/env/${envId}/policies/new`, class: 'button' }, 'New policy')));
  const body = h('tbody');
  for (const policy of policies) {
    body.append(h('tr', { 'data-policy': policy.id },
      h('th', { scope: 'row' }, h('a', { href: `#/env/${envId}/policies/${policy.id}` }, policy.name),
        policy.default ? [' ', h('span', { class: 'badge badge-default', 'data-default': '' }, 'Default')] : null),
      h('td', {}, (policy.quotas ?? []).length ? policy.quotas.map((q) => h('div', {}, quotaWords(q))) : 'No quota'),
      h('td', {}, countryLimitWords(policy.countryLimit)),
      h('td', { class: 'num' }, String(policy.providerConfiguration?.conditions?.length ?? 0))));
  }
  main.append(h('div', { class: 'scroll' }, h('table', { class: 'list', id: 'policies' },
    h('caption', { class: 'visually-hidden' }, 'Notification policies'),
    h('thead', {}, h('tr', {}, ['Name', 'Quotas', 'Countries', 'Routing conditions'].map((t) => h('th', { scope: 'col' }, t)))),
    body)));
}
