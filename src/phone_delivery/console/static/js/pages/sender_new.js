// Creating a sender: PingOne's step 1 (the account's credentials). The answer lists what the account
// has (Messaging Services, numbers, channels); step 2 (sender_edit.js) chooses among them.
import { envPath, get, post, sendersPath } from '../api.js';
import { context } from '../context.js';
import { announce, clearErrors, errorBox, field, h, showErrors } from '../dom.js';
import { navigate } from '../navigation.js';
import { customProviderBody, customProviderFields, renumber } from '../custom_provider_form.js';
import { KINDS } from '../sender_kinds.js';

export async function render(main, [envId, provider]) {
  const kind = KINDS[provider];
  if (!kind) throw new Error(`Unknown provider ${provider}.`);
  const env = await get(envPath(envId));
  context.environmentNames.set(envId, env.name);
  main.append(h('p', { class: 'crumbs' }, h('a', { href: `#/env/${envId}/senders` }, `Senders of ${env.name}`)),
    h('h1', {}, `New ${kind.label} sender`),
    h('p', {}, kind.summary));
  const steps = kind.chooses
    ? h('ol', { class: 'steps', 'aria-label': 'Steps' },
      h('li', { 'aria-current': 'step' }, 'Create: the account and its credentials'),
      h('li', {}, `Choose the ${chooseWords(kind.chooses)} the account returned`))
    : null;
  if (steps) main.append(steps);

  const form = h('form', { class: 'card', novalidate: true, 'aria-label': `New ${kind.label} sender` }, errorBox());
  let custom = null;
  if (kind.create) {
    for (const spec of kind.create) form.append(field({ ...spec, value: '', required: spec.required || (spec.name === 'name' && Boolean(kind.nameRequired?.create)) }));
  } else {
    form.append(field({ label: 'Name', name: 'name', required: true, help: 'Unique in the environment.' }));
    custom = customProviderFields(null, context.dev);
    form.append(...custom.parts);
  }
  const submit = h('button', { type: 'submit' }, kind.chooses ? 'Create, then choose' : 'Create');
  const actions = h('div', { class: 'actions' }, submit);
  if (context.dev) {
    const fillFields = custom ? custom.fillFromSandbox : () => {
      for (const spec of kind.create) {
        if (!spec.dev) continue;
        form.querySelector(`[data-target="${spec.name}"]`).value = spec.dev.reduce((o, k) => o?.[k], context.dev) ?? '';
      }
      const nameInput = form.querySelector('[data-target="name"]');
      if (!nameInput.value) nameInput.value = `Sandbox ${kind.label}`;
    };
    const fill = () => {
      clearErrors(form); // refilled: the last attempt's errors no longer apply
      fillFields();
    };
    actions.append(h('button', { type: 'button', class: 'secondary', onclick: fill }, 'Fill in the sandbox account'));
  }
  form.append(actions);
  main.append(form);
  if (custom) renumber(form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { provider };
    const nameValue = form.querySelector('[data-target="name"]').value.trim();
    if (nameValue) body.name = nameValue;
    if (custom) Object.assign(body, customProviderBody(form));
    else {
      for (const spec of kind.create) {
        if (spec.name === 'name') continue;
        body[spec.name] = form.querySelector(`[data-target="${spec.name}"]`).value.trim();
      }
    }
    submit.disabled = true;
    announce('Creating the sender…');
    try {
      const created = await post(sendersPath(envId), body);
      // Step 2's PUT must carry the secret again; keep what was typed in memory for that one form.
      const secret = kind.create?.find((f) => f.secret);
      if (secret) context.pendingSecret = { id: created.id, value: body[secret.name] };
      // The address names the new sender; Back skips the create form (it would create another one).
      navigate(`#/env/${envId}/senders/${created.id}${kind.chooses ? '?step=2' : ''}`,
        { replace: true, message: `Sender ${created.name} created.` });
    } catch (error) {
      showErrors(form, error);
    } finally {
      submit.disabled = false;
    }
  });
}

export function chooseWords(chooses) {
  return { messagingServices: 'Messaging Service', numbers: 'numbers', channels: 'channels' }[chooses];
}
