// One sender: PingOne's step 2 (choose among what the account returned), editing (a full PUT, with
// the secret again), a test send through this sender alone, and delete.
import { del, envPath, get, post, put, sendersPath } from '../api.js';
import { context } from '../context.js';
import { announce, checkbox, clearErrors, definitions, errorBox, field, h, link, nextId, showErrors, showProblem, time } from '../dom.js';
import { navigate } from '../navigation.js';
import { customProviderBody, customProviderFields, renumber } from '../custom_provider_form.js';
import { explain } from '../error_codes.js';
import { KINDS, kindLabel, secretFields, selectionSummary } from '../sender_kinds.js';
import { chooseWords } from './sender_new.js';

const READ_ONLY = new Set(['_links', '_embedded', 'createdAt', 'updatedAt', 'environment']);

export async function render(main, [envId, senderId], query) {
  const [env, sender] = await Promise.all([get(envPath(envId)), load(envId, senderId)]);
  context.environmentNames.set(envId, env.name);
  const kind = KINDS[sender.provider] ?? { label: sender.provider, chooses: null, create: [] };
  const stepTwo = query.get('step') === '2' && kind.chooses;
  main.append(h('p', { class: 'crumbs' }, h('a', { href: `#/env/${envId}/senders` }, `Senders of ${env.name}`)),
    h('h1', {}, sender.name));
  if (stepTwo) {
    main.append(h('ol', { class: 'steps', 'aria-label': 'Steps' },
      h('li', {}, 'Create: the account and its credentials (done)'),
      h('li', { 'aria-current': 'step' }, `Choose the ${chooseWords(kind.chooses)} the account returned`)));
  }
  main.append(definitions([
    ['Provider', `${kindLabel(sender.provider)} (${sender.provider})`],
    ['Sends with', selectionSummary(sender)],
    ['Account SID', sender.sid || null],
    ['ID', h('span', { class: 'mono' }, sender.id)],
    ['Created', time(sender.createdAt)],
    ['Updated', time(sender.updatedAt)],
  ]));
  const templates = sender._embedded?.twilioVerifyTemplates;
  if (templates?.length) {
    main.append(h('p', {}, `Verify templates of the account: ${templates.map((t) => `${t.name} (${t.channels.join(', ')})`).join('; ')}`));
  }
  main.append(editForm(envId, sender, kind, stepTwo), testForm(envId, sender), deleteSection(envId, sender));
}

async function load(envId, senderId) {
  const path = sendersPath(envId, senderId);
  const sender = await get(path);
  return sender.provider === 'CUSTOM_TWILIO_VERIFY' ? get(`${path}?expand=twilioverifytemplates`) : sender;
}

function editForm(envId, sender, kind, stepTwo) {
  const title = stepTwo ? `Choose the ${chooseWords(kind.chooses)}` : 'Settings';
  const titleId = nextId('edit');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title), errorBox(),
    field({ label: 'Name', name: 'name', value: sender.name, required: Boolean(kind.nameRequired?.replace) }));
  let custom = null;
  if (sender.provider === 'CUSTOM_PROVIDER') {
    custom = customProviderFields(sender);
    form.append(...custom.parts);
  } else {
    const pending = context.pendingSecret?.id === sender.id ? context.pendingSecret.value : '';
    context.pendingSecret = null;
    for (const spec of secretFields(sender)) {
      form.append(field({ ...spec, value: pending,
        help: pending ? 'Kept from step 1 for this form only (a PUT carries the secret again).' : 'Write-only: enter it again to save (a PUT replaces the whole sender).' }));
    }
    for (const spec of kind.create ?? []) {
      if (spec.editable) form.append(field({ ...spec, value: sender[spec.name] ?? '' }));
    }
    if (kind.chooses === 'messagingServices') form.append(servicesChooser(sender));
    if (kind.chooses === 'numbers') form.append(numbersChooser(sender));
    if (kind.chooses === 'channels') form.append(channelsChooser(sender));
  }
  const submit = h('button', { type: 'submit' }, stepTwo ? 'Save the choice' : 'Save');
  form.append(h('div', { class: 'actions' }, submit));
  if (custom) renumber(form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = Object.fromEntries(Object.entries(sender).filter(([k]) => !READ_ONLY.has(k)));
    body.name = form.querySelector('[data-target="name"]').value.trim();
    if (custom) Object.assign(body, customProviderBody(form));
    else {
      for (const spec of [...secretFields(sender), ...(kind.create ?? []).filter((s) => s.editable)]) {
        body[spec.name] = form.querySelector(`[data-target="${spec.name}"]`).value.trim();
      }
      applyChoice(form, body, kind.chooses);
    }
    submit.disabled = true;
    try {
      await put(sendersPath(envId, sender.id), body);
      // Step 2 done: its address gives way to the sender's own (Back does not reopen the choice).
      navigate(`#/env/${envId}/senders/${sender.id}`, { replace: stepTwo, message: `Sender ${body.name} saved.` });
    } catch (error) {
      showErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function group(legend, target, children) {
  const id = nextId('g');
  return h('fieldset', { id, 'data-target': target, tabindex: '-1', class: 'choices' },
    h('legend', {}, legend), h('p', { class: 'field-error', 'data-error-for': id, hidden: true }), children);
}

function servicesChooser(sender) {
  const name = nextId('ms');
  const services = sender.messagingServices ?? [];
  const option = (value, label, checked, target) => {
    const id = nextId('r');
    return h('div', { class: 'check' },
      h('input', { type: 'radio', name, id, value, checked, 'data-target': target }),
      h('label', { for: id }, label));
  };
  return group('Messaging Service (at most one)', 'messagingServices', [
    ...services.map((s, i) => option(String(i), `${s.name} (${s.messagingServiceId})`, s.selected, `messagingServices[${i}].messagingServiceId`)),
    option('', 'None (the sender cannot send)', !services.some((s) => s.selected), 'messagingServices'),
  ]);
}

function numbersChooser(sender) {
  const rows = (sender.numbers ?? []).map((n, i) => {
    const countries = n.type === 'PHONE_NUMBER' ? null : field({
      label: `Countries for ${n.number}`, name: nextId('sc'), target: `numbers[${i}].supportedCountries`,
      value: (n.supportedCountries ?? []).join(', '), help: 'ISO codes separated by commas; empty: US only.',
    });
    const label = `${n.number}: ${n.type.replace('_', ' ').toLowerCase()}, ${(n.capabilities ?? []).join(' + ')}${n.available === false ? ' (no longer in the account)' : ''}`;
    return h('div', { class: 'choice', 'data-index': i },
      checkbox({ label, name: nextId('num'), target: `numbers[${i}].selected`, checked: n.selected }), countries);
  });
  return group('Numbers to send from', 'numbers', rows);
}

function channelsChooser(sender) {
  return group('Channels (one for SMS, one for voice at most)', 'channels', (sender.channels ?? []).map((c, i) =>
    checkbox({ label: `${c.name}: ${(c.capabilities ?? []).join(' + ')}`, name: nextId('ch'), target: `channels[${i}].selected`, checked: c.selected })));
}

function applyChoice(form, body, chooses) {
  if (chooses === 'messagingServices') {
    const picked = form.querySelector('input[type=radio]:checked')?.value ?? '';
    body.messagingServices = body.messagingServices.map((s, i) => ({ ...s, selected: String(i) === picked }));
  } else if (chooses === 'numbers') {
    body.numbers = body.numbers.map((n, i) => {
      const next = { ...n, selected: form.querySelector(`[data-target="numbers[${i}].selected"]`).checked };
      const countries = form.querySelector(`[data-target="numbers[${i}].supportedCountries"]`);
      if (countries) {
        const list = countries.value.split(',').map((c) => c.trim()).filter(Boolean);
        if (list.length) next.supportedCountries = list;
        else delete next.supportedCountries;
      }
      return next;
    });
  } else if (chooses === 'channels') {
    body.channels = body.channels.map((c, i) => ({ ...c, selected: form.querySelector(`[data-target="channels[${i}].selected"]`).checked }));
  }
}

function testForm(envId, sender) {
  const titleId = nextId('test');
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, 'Test send'),
    h('p', { class: 'muted' }, 'Sends one message through this sender only, now, bypassing the fallback chain, and shows what the provider answered.'),
    errorBox(),
    field({ label: 'To', name: 'to', type: 'tel', required: true, help: 'International format, e.g. +14155552671.' }),
    field({ label: 'Delivery method', name: 'deliveryMethod', value: 'SMS', options: [['SMS', 'SMS'], ['VOICE', 'Voice']] }),
    field({ label: 'Message', name: 'message', value: 'phone-delivery test message' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send test')), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    result.replaceChildren(h('p', {}, 'Sending…'));
    const v = (name) => form.querySelector(`[data-target="${name}"]`).value.trim();
    try {
      const answer = await post(`${sendersPath(envId, sender.id)}/test`, { to: v('to'), deliveryMethod: v('deliveryMethod'), message: v('message') });
      const ok = answer.status === 'SENT';
      const explained = ok ? null : explain(answer.error?.code, answer.provider ?? '');
      result.replaceChildren(h('h3', {}, 'Provider answer: ', h('span', { class: `badge badge-${answer.status.toLowerCase()}`, 'data-test-status': answer.status }, answer.status)),
        definitions([
          ['Provider', answer.provider],
          ['Provider message id', answer.providerMessageId],
          ['Error code', answer.error?.code || null],
          ['Error', answer.error?.message],
          ['In words', explained],
        ]),
        answer.providerResponse ? h('pre', { class: 'json' }, JSON.stringify(answer.providerResponse, null, 2)) : null);
      announce(ok ? `Test message sent: ${answer.providerMessageId ?? ''}` : `Test send failed: ${answer.error?.message ?? ''}`, ok ? 'info' : 'error');
    } catch (error) {
      result.replaceChildren();
      showErrors(form, error);
    }
  });
  return form;
}

function deleteSection(envId, sender) {
  const region = h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
  return h('section', { class: 'card', 'aria-label': 'Delete' }, region,
    h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!window.confirm(`Delete the sender ${sender.name}?`)) return;
      try {
        await del(sendersPath(envId, sender.id));
        navigate(`#/env/${envId}/senders`, { replace: true, message: `Sender ${sender.name} deleted.` });
      } catch (error) {
        showProblem(region, error, deleteHelp(envId, error));
      }
    } }, `Delete ${sender.name}`));
}

/** Where to go when a delete was refused because the fallback chain names the sender. */
export function deleteHelp(envId, error) {
  const inChain = (error.details ?? []).some((d) => d.message?.includes('smsProvidersFallbackChain')
    || (d.innerError?.referencedValues ?? []).some((v) => String(v).includes('smsProvidersFallbackChain')));
  return inChain ? ['Open the ', link(`#/env/${envId}/chain`, 'Fallback chain'), ' to remove it, then delete it.'] : [];
}
