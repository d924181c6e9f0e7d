// Applications of an environment and their role assignments; create one, rotate a secret (shown
// once), grant or remove a role. The API decides who may: an application can only be acted on by one
// that holds every role it holds.
import { del, envPath, get, post } from '../api.js';
import { context } from '../context.js';
import { announce, badge, clearErrors, errorBox, field, h, nextId, showErrors, time } from '../dom.js';

export async function render(main, [envId]) {
  const [env, list] = await Promise.all([get(envPath(envId)), get(envPath(envId, '/applications'))]);
  context.environmentNames.set(envId, env.name);
  const apps = list?._embedded?.applications ?? [];
  main.append(h('h1', {}, `Applications of ${env.name}`));
  const secretBox = h('div', { class: 'secret-box', role: 'alert', hidden: true, tabindex: '-1' });
  main.append(secretBox);
  const showSecret = (appName, secret) => {
    const id = nextId('secret');
    secretBox.replaceChildren(h('h2', {}, `New client secret of ${appName}`),
      h('p', {}, 'Shown once: it is stored only as a hash and cannot be shown again. Copy it now.'),
      h('label', { for: id }, 'Client secret'),
      h('input', { id, class: 'mono', readOnly: true, value: secret, size: 60 }),
      h('button', { type: 'button', class: 'secondary', onclick: () => {
        secretBox.replaceChildren();
        secretBox.hidden = true;
      } }, 'I have copied it'));
    secretBox.hidden = false;
    secretBox.focus();
    secretBox.querySelector('input').select();
  };

  for (const app of apps) main.append(await appCard(envId, app, showSecret));
  if (!apps.length) main.append(h('p', {}, 'No application in this environment.'));

  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'new-app-title' },
    h('h2', { id: 'new-app-title' }, 'New worker application'), errorBox(),
    field({ label: 'Name', name: 'name', required: true }),
    field({ label: 'Description', name: 'description' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create application')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const description = form.elements.description.value.trim();
    try {
      const app = await post(envPath(envId, '/applications'), { name: form.elements.name.value.trim(), ...(description ? { description } : {}) });
      form.reset();
      const card = await appCard(envId, app, showSecret);
      form.before(card);
      showSecret(app.name, app.clientSecret);
      announce(`Application ${app.name} created: give it a role to let it call the API.`);
    } catch (error) {
      showErrors(form, error);
    }
  });
  main.append(form);
}

async function appCard(envId, app, showSecret) {
  const appPath = envPath(envId, `/applications/${app.id}`);
  const titleId = nextId('app');
  const card = h('section', { class: 'card', 'aria-labelledby': titleId, 'data-application': app.id });
  const roles = h('ul', { class: 'roles' });
  const errors = h('form', { novalidate: true }, errorBox());
  card.append(h('h2', { id: titleId }, app.name, ' ', badge(app.enabled ? 'ENABLED' : 'DISABLED')),
    h('p', { class: 'muted' }, app.description ?? ''),
    h('p', {}, 'Client ID ', h('span', { class: 'mono' }, app.id), ' · created ', time(app.createdAt)),
    h('h3', {}, 'Role assignments'), roles, errors);

  async function drawRoles() {
    roles.replaceChildren();
    try {
      const answer = await get(`${appPath}/roleAssignments`);
      for (const r of answer?._embedded?.roleAssignments ?? []) {
        const scope = r.scope.type === 'ORGANIZATION' ? 'the organization' : (context.environmentNames.get(r.scope.id) ?? r.scope.id);
        roles.append(h('li', {}, `${r.role.id} of ${scope} `,
          h('button', { type: 'button', class: 'danger small', 'aria-label': `Remove ${r.role.id} of ${scope} from ${app.name}`, onclick: async () => {
            if (!window.confirm(`Remove ${r.role.id} of ${scope} from ${app.name}?`)) return;
            try {
              await del(`${appPath}/roleAssignments/${r.id}`);
              announce('Role assignment removed.');
              drawRoles();
            } catch (error) {
              showErrors(errors, error);
            }
          } }, 'Remove')));
      }
      if (!roles.children.length) roles.append(h('li', { class: 'muted' }, 'No role: this application cannot call the API.'));
    } catch (error) {
      roles.append(h('li', { class: 'muted' }, `Roles not shown: ${error.message}`));
    }
  }
  await drawRoles();

  const grant = h('form', { class: 'inline-form', novalidate: true, 'aria-label': `Grant a role to ${app.name}` }, errorBox(),
    field({ label: 'Role', name: 'role', target: 'role.id', value: 'ENVIRONMENT_ADMIN',
      options: [['ENVIRONMENT_ADMIN', 'Environment Admin'], ['ORGANIZATION_ADMIN', 'Organization Admin']] }),
    field({ label: 'Of environment (id)', name: 'scope', target: 'scope.id', value: envId }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Grant role')));
  grant.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(grant);
    const role = grant.elements.role.value;
    const scope = role === 'ORGANIZATION_ADMIN' ? { type: 'ORGANIZATION' } : { type: 'ENVIRONMENT', id: grant.elements.scope.value.trim() };
    try {
      await post(`${appPath}/roleAssignments`, { role: { id: role }, scope });
      announce(`${role} granted to ${app.name}.`);
      drawRoles();
    } catch (error) {
      showErrors(grant, error);
    }
  });
  const rotate = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    if (!window.confirm(`Rotate the secret of ${app.name}? The current one stops working at once.`)) return;
    try {
      const answer = await post(`${appPath}/secret`, {});
      showSecret(app.name, answer.secret);
      announce(`New secret of ${app.name} issued; the old one no longer works.`);
    } catch (error) {
      showErrors(errors, error);
    }
  } }, 'Rotate secret');
  card.append(grant, h('div', { class: 'actions' }, rotate));
  return card;
}
