// The console's shell: hash routes (#/env/{id}/senders ...), the navigation, sign-in state.
import { devCredentials, onSessionEnd, signedIn, signOut, whoAmI } from './api.js';
import { announce, clear, clearFieldError, h, problem } from './dom.js';
import { navigate, onNavigate, takeCarried } from './navigation.js';
import * as activities from './pages/activities.js';
import * as applications from './pages/applications.js';
import * as chain from './pages/chain.js';
import * as environments from './pages/environments.js';
import * as inbox from './pages/inbox.js';
import * as notification from './pages/notification.js';
import * as notifications from './pages/notifications.js';
import * as policies from './pages/policies.js';
import * as policy from './pages/policy.js';
import * as senderEdit from './pages/sender_edit.js';
import * as senderNew from './pages/sender_new.js';
import * as senders from './pages/senders.js';
import * as signin from './pages/signin.js';
import { context } from './context.js';

const ROUTES = [
  [/^\/signin$/, signin],
  [/^\/environments$/, environments],
  [/^\/env\/([^/]+)\/senders$/, senders],
  [/^\/env\/([^/]+)\/senders\/new\/([A-Z_]+)$/, senderNew],
  [/^\/env\/([^/]+)\/senders\/([^/]+)$/, senderEdit],
  [/^\/env\/([^/]+)\/chain$/, chain],
  [/^\/env\/([^/]+)\/policies$/, policies],
  [/^\/env\/([^/]+)\/policies\/([^/]+)$/, policy],
  [/^\/env\/([^/]+)\/notifications$/, notifications],
  [/^\/env\/([^/]+)\/notifications\/([^/]+)$/, notification],
  [/^\/env\/([^/]+)\/activities$/, activities],
  [/^\/env\/([^/]+)\/applications$/, applications],
  [/^\/inbox$/, inbox],
];

const ENV_PAGES = [
  ['senders', 'Senders'],
  ['chain', 'Fallback chain'],
  ['policies', 'Policies'],
  ['notifications', 'Notifications'],
  ['activities', 'Activities'],
  ['applications', 'Applications'],
];

let leave = null; // what the current page does when it is left (stop polling)
let shown = 0; // the latest route() call: an earlier one still rendering is discarded

function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/environments';
  const [path, search = ''] = raw.split('?');
  return { path, query: new URLSearchParams(search) };
}

function renderNav(path, envId) {
  const nav = clear(document.getElementById('nav'));
  const session = clear(document.getElementById('session'));
  if (!signedIn()) return;
  const item = (href, text) => {
    const current = `#${path}` === href || (href !== '#/environments' && `#${path}`.startsWith(`${href}/`));
    return h('li', {}, h('a', { href, 'aria-current': current ? 'page' : null }, text));
  };
  const items = [item('#/environments', 'Environments')];
  if (envId) {
    const name = context.environmentNames.get(envId) ?? 'Environment';
    items.push(h('li', { class: 'env-name' }, h('span', { title: envId }, name)));
    for (const [page, label] of ENV_PAGES) items.push(item(`#/env/${envId}/${page}`, label));
  }
  if (context.dev) items.push(item('#/inbox', 'Sandbox inbox'));
  nav.append(h('ul', {}, items));
  const who = whoAmI();
  session.append(h('button', {
    type: 'button', class: 'secondary', title: `Signed in as client ${who.clientId} of environment ${who.environmentId}`,
    onclick: () => signOut('Signed out.'),
  }, 'Sign out'));
}

async function route() {
  const token = ++shown;
  if (leave) {
    leave();
    leave = null;
  }
  // The status line speaks of this page only: what the last page said is gone.
  const carried = takeCarried();
  announce(carried?.message ?? '', carried?.kind);
  const { path, query } = parseHash();
  if (!signedIn() && path !== '/signin') {
    navigate('#/signin', { replace: true, message: carried?.message, kind: carried?.kind });
    return;
  }
  const main = document.getElementById('main');
  // Each page renders into its own view: one still loading when the next is asked for stays detached.
  const view = h('div', { class: 'view' });
  main.replaceChildren(view);
  let found = null;
  let params = [];
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      found = page;
      params = match.slice(1).map(decodeURIComponent);
      break;
    }
  }
  const envId = path.startsWith('/env/') ? params[0] : context.lastEnvironment;
  if (path.startsWith('/env/')) context.lastEnvironment = envId;
  renderNav(path, envId);
  if (!found) {
    view.append(h('h1', { tabindex: '-1' }, 'Page not found'), h('p', {}, h('a', { href: '#/environments' }, 'Environments')));
    return;
  }
  try {
    const left = (await found.render(view, params, query)) ?? null;
    if (token !== shown) {
      left?.();
      return;
    }
    leave = left;
  } catch (error) {
    if (token !== shown) return;
    view.append(problem(error));
  }
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
  renderNav(path, envId); // the page may have learned the environment's name
}

onSessionEnd((reason) => {
  context.environmentNames.clear();
  navigate('#/signin', { message: reason });
});
onNavigate(route);

async function start() {
  const dev = await devCredentials();
  context.dev = dev;
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/')) route(); // not the skip link's #main
  });
  // A field edited (typed in, chosen, ticked) no longer shows the error of the last attempt.
  document.addEventListener('input', (event) => clearFieldError(event.target));
  await route();
}

start();
