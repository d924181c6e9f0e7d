// Sign in with an application's client id and secret (client_credentials at {envID}/as/token).
import { ApiError, signIn } from '../api.js';
import { context } from '../context.js';
import { announce, clearErrors, errorBox, field, h, showErrors } from '../dom.js';
import { navigate } from '../navigation.js';

export async function render(main) {
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'signin-title', novalidate: true });
  const environment = field({
    label: 'Environment ID of the application', name: 'environmentId', required: true,
    help: 'The environment the application lives in: its token endpoint is /{this id}/as/token.',
  });
  const clientId = field({ label: 'Client ID', name: 'clientId', required: true });
  const secret = field({ label: 'Client secret', name: 'clientSecret', type: 'password', required: true, autocomplete: 'off' });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  form.append(h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', {}, 'The console calls the public API with the token it gets here, so it can do exactly what this application may do. The token is kept in this page only: reloading signs you out.'),
    errorBox(), environment, clientId, secret, h('div', { class: 'actions' }, submit));

  const value = (wrapper) => wrapper.querySelector('input').value.trim();
  async function go(envId, id, password) {
    submit.disabled = true;
    clearErrors(form);
    announce('Signing in…');
    try {
      await signIn(envId, id, password);
      navigate('#/environments', { replace: true, message: 'Signed in.' }); // Back does not return here
    } catch (error) {
      const shown = error instanceof ApiError ? error : new ApiError(0, { message: String(error) });
      if (shown.code === 'invalid_client') {
        shown.details = [{ target: 'clientSecret', message: 'Unknown client, wrong secret or disabled application.' }];
      }
      showErrors(form, shown);
    } finally {
      submit.disabled = false;
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const missing = [];
    for (const [wrapper, name] of [[environment, 'environmentId'], [clientId, 'clientId'], [secret, 'clientSecret']]) {
      if (!value(wrapper)) missing.push({ target: name, message: 'Required.' });
    }
    if (missing.length) {
      showErrors(form, new ApiError(400, { message: 'Fill in every field.', details: missing }));
      return;
    }
    go(value(environment), value(clientId), secret.querySelector('input').value);
  });
  main.append(form);

  if (context.dev) {
    const dev = context.dev;
    main.append(h('section', { class: 'card narrow dev', 'aria-labelledby': 'dev-title' },
      h('h2', { id: 'dev-title' }, 'Dev mode'),
      h('p', {}, 'This service runs in dev mode and this page reaches it over the loopback interface, so the console may use the credentials dev mode wrote to dev-credentials.json.'),
      h('button', { type: 'button', onclick: () => go(dev.adminEnvironmentId, dev.clientId, dev.clientSecret) },
        'Sign in with the dev credentials')));
  }
}
