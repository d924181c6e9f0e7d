// One notification policy: what it does in words (quotas, country limit, routing by sender name,
// cooldowns, fraudProtection), its body in a JSON editor (Save POSTs or PUTs it), Make default and
// Delete. #/env/{id}/policies/new is the editor alone, with an example body.
import { del, envPath, get, post, put, sendersPath } from '../api.js';
import { context } from '../context.js';
import { announce, definitions, h, nextId, showProblem, time } from '../dom.js';
import { navigate } from '../navigation.js';
import { conditionWords, cooldownWords, countryLimitWords, fraudWords, policiesPath, quotaWords } from '../policy_words.js';

const READ_ONLY = new Set(['_links', '_embedded', 'id', 'environment', 'createdAt', 'updatedAt']);
const EXAMPLE = {
  name: 'New policy',
  default: false,
  quotas: [{ type: 'USER', deliveryMethods: ['SMS', 'Voice'], total: 5 }],
  countryLimit: { type: 'ALLOWED', deliveryMethods: ['SMS', 'Voice'], countries: ['US'] },
};

/** The policy as PUT takes it: without its read-only fields. */
export function editable(policy) {
  return Object.fromEntries(Object.entries(policy).filter(([key]) => !READ_ONLY.has(key)));
}

export async function render(main, [envId, policyId]) {
  const creating = policyId === 'new';
  const [env, list, policy] = await Promise.all([get(envPath(envId)), get(sendersPath(envId)),
    creating ? null : get(policiesPath(envId, policyId))]);
  context.environmentNames.set(envId, env.name);
  const senders = new Map((list?._embedded?.phoneDeliverySettings ?? []).map((s) => [s.id, s.name]));
  const senderName = (id) => (id === 'PINGONE_TWILIO' ? 'PINGONE_TWILIO' : senders.get(id) ?? `${id} (not a sender of this environment)`);
  main.append(h('p', { class: 'crumbs' }, h('a', { href: `#/env/${envId}/policies` }, `Policies of ${env.name}`)),
    h('h1', {}, creating ? 'New policy' : policy.name));
  if (!creating) main.append(view(policy, senderName), actions(envId, policy));
  main.append(editor(envId, policy));
}

function view(policy, senderName) {
  const conditions = policy.providerConfiguration?.conditions ?? [];
  const cooldowns = policy.cooldownConfiguration;
  const section = h('section', { class: 'card', 'aria-labelledby': 'policy-view' }, h('h2', { id: 'policy-view' }, 'What it does'),
    definitions([
      ['Default', policy.default ? h('span', { class: 'badge badge-default' }, 'Default policy') : 'No: used by sends whose policy.id names it'],
      ['Quotas', (policy.quotas ?? []).length ? h('ul', { id: 'policy-quotas' }, policy.quotas.map((q, i) => h('li', {}, `quotas[${i}]: ${quotaWords(q)}`))) : 'None'],
      ['Countries', h('span', { id: 'policy-countries' }, countryLimitWords(policy.countryLimit))],
      ['Routing', conditions.length
        ? h('ol', { id: 'policy-routing' }, conditions.map((c) => h('li', {}, conditionWords(c, senderName))))
        : "No condition: the environment's fallback chain"],
      ['Cooldowns', cooldowns
        ? h('ul', { id: 'policy-cooldowns' }, ['sms', 'voice', 'email', 'whatsApp'].map((m) => h('li', {}, cooldownWords(m, cooldowns[m]))))
        : 'None'],
      ['Fraud protection', policy.fraudProtection ? h('ul', { id: 'policy-fraud' }, fraudWords(policy.fraudProtection).map((t) => h('li', {}, t))) : null],
      ['ID', h('span', { class: 'mono' }, policy.id)],
      ['Updated', time(policy.updatedAt)],
    ]));
  return section;
}

function actions(envId, policy) {
  const region = h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  const makeDefault = policy.default ? null : h('button', { type: 'button', class: 'secondary', onclick: async () => {
    region.hidden = true;
    try {
      await put(policiesPath(envId, policy.id), { ...editable(policy), default: true });
      navigate(`#/env/${envId}/policies/${policy.id}`, { message: `${policy.name} is now the default policy.` });
    } catch (error) {
      showProblem(region, error);
    }
  } }, 'Make default');
  const remove = h('button', { type: 'button', class: 'danger', onclick: async () => {
    if (!window.confirm(`Delete the policy ${policy.name}?`)) return;
    region.hidden = true;
    try {
      await del(policiesPath(envId, policy.id));
      navigate(`#/env/${envId}/policies`, { replace: true, message: `Policy ${policy.name} deleted.` });
    } catch (error) {
      showProblem(region, error);
    }
  } }, `Delete ${policy.name}`);
  return h('section', { class: 'card', 'aria-label': 'Policy actions' }, region, h('div', { class: 'actions' }, makeDefault, remove));
}

/** The JSON editor: a labelled textarea; the API's errors under it, each detail's target and message. */
function editor(envId, policy) {
  const id = nextId('policy-json');
  const errorId = `${id}-error`;
  const helpId = `${id}-help`;
  const text = h('textarea', { id, name: 'policy', 'data-target': 'policy', rows: 18, spellcheck: 'false',
    'aria-describedby': `${helpId} ${errorId}`, required: true });
  text.value = JSON.stringify(policy ? editable(policy) : EXAMPLE, null, 2);
  const errors = h('div', { class: 'field-error', id: errorId, 'data-error-for': id, hidden: true });
  const save = h('button', { type: 'submit' }, policy ? 'Save' : 'Create');
  const titleId = nextId('editor');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, policy ? 'Edit as JSON' : 'The policy as JSON'),
    h('div', { class: 'field wide' }, h('label', { for: id }, 'Policy (JSON)'), text,
      h('p', { class: 'help', id: helpId }, policy
        ? 'A PUT replaces the whole policy (docs/policies.md lists the fields and their rules).'
        : 'Name, quotas (may be empty), countryLimit, providerConfiguration, cooldownConfiguration, fraudProtection: see docs/policies.md.'),
      errors),
    h('div', { class: 'actions' }, save));

  function showError(message, details = []) {
    announce('');
    errors.replaceChildren(h('p', {}, message),
      details.length ? h('ul', {}, details.map((d) => h('li', { 'data-detail-target': d.target ?? '' },
        d.target ? [h('code', {}, d.target), ': '] : null, d.message ?? d.code ?? ''))) : null);
    errors.hidden = false;
    text.setAttribute('aria-invalid', 'true');
    text.focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.hidden = true;
    errors.replaceChildren();
    text.removeAttribute('aria-invalid');
    let body;
    try {
      body = JSON.parse(text.value);
    } catch (error) {
      showError(`This is not JSON: ${error.message}`);
      return;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      showError('The policy is a JSON object: { "name": ..., "quotas": [...] }.');
      return;
    }
    save.disabled = true;
    try {
      const saved = policy ? await put(policiesPath(envId, policy.id), body) : await post(policiesPath(envId), body);
      // A create's form has done its work: its address gives way to the new policy's.
      navigate(`#/env/${envId}/policies/${saved.id}`, { replace: !policy, message: `Policy ${saved.name} saved.` });
    } catch (error) {
      showError(error.message, error.details);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
