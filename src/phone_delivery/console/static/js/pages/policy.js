// One notification policy: what it does in words (quotas, country limit, routing by sender name,
// cooldowns, fraudProtection), what its counters hold now, its body in a JSON editor (Save POSTs or PUTs it), Make default and
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
  if (!creating) main.append(view(policy, senderName), await usage(envId, policy), actions(envId, policy));
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

/** The policy's counters now (GET .../usage): each quota's use today, the blocks in force, and one
 * user's or number's use on request. */
async function usage(envId, policy) {
  const path = `${policiesPath(envId, policy.id)}/usage`;
  const section = h('section', { class: 'card', id: 'policy-usage', 'aria-labelledby': 'policy-usage-title' },
    h('h2', { id: 'policy-usage-title' }, 'Use now'));
  let body;
  try {
    body = await get(path);
  } catch (error) {
    // the rest of the page (the policy, its editor) stays usable
    section.append(h('p', { class: 'form-error', role: 'alert' }, `Its use could not be read: ${error.message}`));
    return section;
  }
  const quotas = body.quotas.map((q) => h('li', { 'data-quota': String(q.index) }, usageWords(q)));
  const blocks = body.blocks.map((b) => h('li', {}, blockWords(b), ' until ', time(b.until)));
  const more = body.blockCount > body.blocks.length ? h('p', {}, `and ${body.blockCount - body.blocks.length} more`) : null;
  const inputId = nextId('usage-who');
  const who = h('input', { id: inputId, name: 'who', autocomplete: 'off', placeholder: 'user id or +14155552671' });
  const answer = h('p', { id: `${inputId}-answer`, role: 'status' });
  const lookUp = h('form', { class: 'inline', novalidate: true },
    h('label', { for: inputId }, 'Use of one user or number'), who, h('button', { type: 'submit', class: 'secondary' }, 'Look up'), answer);
  lookUp.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = who.value.trim();
    if (!value) return;
    // "+" and digits is a number; anything else is a user id
    const query = new URLSearchParams(/^\+[\d ()-]+$/.test(value) ? { to: value } : { 'user.id': value });
    try {
      const one = await get(`${path}?${query}`);
      const lines = one.quotas.filter((q) => q.subject).map((q) => `quotas[${q.index}]: ${q.subject.used} used, ${q.subject.remaining} left today`);
      if (one.numberHourlyCap) lines.push(`this hour: ${one.numberHourlyCap.used} of ${one.numberHourlyCap.limit} (numberHourlyCap)`);
      answer.textContent = lines.length ? `${value}: ${lines.join('; ')}` : `${value}: no USER quota or hourly cap counts it`;
    } catch (error) {
      answer.textContent = error.details?.[0]?.message ?? error.message;
    }
  });
  section.append(
    quotas.length ? h('ul', { id: 'policy-usage-quotas' }, quotas) : h('p', {}, 'No quota.'),
    blocks.length ? [h('h3', {}, 'Blocks in force'), h('ul', { id: 'policy-usage-blocks' }, blocks), more] : h('p', { id: 'policy-usage-blocks' }, 'No block in force.'),
    lookUp,
    h('p', { class: 'help' }, 'Quotas count per UTC day; a refused send takes nothing.'));
  return section;
}

function usageWords(quota) {
  const head = `quotas[${quota.index}] (${quota.type} ${quota.deliveryMethods.join(', ')}, ${quota.limit} a day)`;
  if (!quota.counted) return `${head}: not counted (phone-delivery sends no email)`;
  if (quota.type === 'ENVIRONMENT') return `${head}: ${quota.used} used today, ${quota.remaining} left`;
  if (!quota.used) return `${head}: none used today`;
  const top = quota.top.map((t) => `${t.user ? t.user.id : t.to} ${t.used}`).join(', ');
  const users = quota.subjects === 1 ? '1 user' : `${quota.subjects} users`;
  return `${head}: ${quota.used} used today by ${users}, ${quota.subjectsAtLimit} at the limit${top ? `; most: ${top}` : ''}`;
}

function blockWords(block) {
  if (block.rule === 'PREFIX_VELOCITY') return `Prefix ${block.prefix} (prefixVelocity tripped)`;
  const who = block.user ? `user ${block.user.id} at ${block.to}` : block.to;
  return `${block.deliveryMethod} to ${who} (resendLimit reached)`;
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
