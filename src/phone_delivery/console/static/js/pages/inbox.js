// Dev mode: what the sandbox "delivered", newest first, from the sandbox's own inbox API (the phones'
// side, not phone-delivery's), with a link to the full inbox page.
import { sameOrigin } from '../api.js';
import { context } from '../context.js';
import { h, time } from '../dom.js';

const REFRESH_MS = 2000;

export async function render(main) {
  main.append(h('h1', {}, 'Sandbox inbox'));
  if (!context.dev) {
    main.append(h('p', {}, 'The sandbox runs in dev mode only (and shows its inbox to this machine).'));
    return null;
  }
  const base = sameOrigin(context.dev.sandboxBase);
  main.append(h('p', {}, 'Every SMS, call and Verify code the sandbox received, as a phone would. ',
    h('a', { href: `${base}/inbox`, target: '_blank', rel: 'noopener' }, 'Open the full inbox'), ' (new tab).'));
  const list = h('ol', { class: 'inbox', id: 'inbox', 'aria-label': 'Newest messages' });
  const state = h('p', { class: 'muted' });
  main.append(state, list);
  let timer = null;
  let stopped = false;
  async function refresh() {
    try {
      const response = await fetch(`${base}/_admin/inbox?limit=25`, { credentials: 'omit', cache: 'no-store' });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
      list.replaceChildren(...answer.messages.map((m) => h('li', { 'data-to': m.to },
        h('div', { class: 'inbox-head' }, h('strong', {}, `${m.kind} to ${m.to}`), ` from ${m.from ?? m.messagingServiceName ?? ''} · `,
          time(m.at), ` · ${m.status}`),
        h('div', { class: 'inbox-body' }, m.body ?? m.twiml ?? ''),
        m.code ? h('div', { class: 'muted' }, `Code: ${m.code}`) : null)));
      if (!answer.messages.length) list.append(h('li', { class: 'muted' }, 'Empty.'));
      state.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      state.textContent = `The inbox could not be read: ${error.message}`;
    }
    if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
  }
  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
