// The CUSTOM_PROVIDER form: authentication, request templates and numbers, for create and edit.
// Each input's data-target is the API's name for it (requests[1].url), renumbered before every
// submit, so an error detail lands next to the field it names.
import { checkbox, field, h, nextId } from './dom.js';

const AUTH_FIELDS = {
  BASIC: [['username', 'User name', 'text'], ['password', 'Password', 'password']],
  BEARER: [['authToken', 'Bearer token', 'password']],
  OAUTH2: [['authUrl', 'Token URL (https)', 'url'], ['clientId', 'Client ID', 'text'], ['clientSecret', 'Client secret', 'password']],
  CUSTOM_HEADER: [['headerName', 'Header name', 'text'], ['headerValue', 'Header value', 'password']],
};
const SECRETS = new Set(['password', 'authToken', 'clientSecret', 'headerValue']);

function keyed(wrapper, key) {
  const input = wrapper.querySelector('input, select, textarea');
  input.dataset.key = key;
  return wrapper;
}

function headersText(headers) {
  return Object.entries(headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n');
}

function parseHeaders(text) {
  const headers = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon < 0) headers[line.trim()] = '';
    else headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function requestRow(list, template = {}) {
  const row = h('fieldset', { class: 'row-group', 'data-row': 'requests' });
  const legend = h('legend', {}, 'Request template');
  const beforeTag = keyed(field({ label: 'Before tag (voice)', name: nextId('bt'), value: template.beforeTag ?? '' }), 'beforeTag');
  const afterTag = keyed(field({ label: 'After tag (voice)', name: nextId('at'), value: template.afterTag ?? '' }), 'afterTag');
  const method = keyed(field({ label: 'Delivery method', name: nextId('dm'), value: template.deliveryMethod ?? 'SMS',
    options: [['SMS', 'SMS'], ['VOICE', 'Voice']] }), 'deliveryMethod');
  const voiceOnly = () => {
    const voice = method.querySelector('select').value === 'VOICE';
    beforeTag.hidden = !voice;
    afterTag.hidden = !voice;
  };
  method.querySelector('select').addEventListener('change', voiceOnly);
  row.append(legend, method,
    keyed(field({ label: 'HTTP method', name: nextId('hm'), value: template.method ?? 'POST', options: [['POST', 'POST'], ['GET', 'GET']] }), 'method'),
    keyed(field({ label: 'URL', name: nextId('url'), type: 'url', value: template.url ?? '', required: true,
      help: 'https; ${to}, ${from} and ${message} are replaced (a GET needs ${to} and ${message} here).' }), 'url'),
    keyed(field({ label: 'Headers, one "Name: value" a line', name: nextId('hd'), type: 'textarea', rows: 2,
      value: headersText(template.headers) }), 'headers'),
    keyed(field({ label: 'Body (POST)', name: nextId('bd'), type: 'textarea', rows: 3, value: template.body ?? '' }), 'body'),
    keyed(field({ label: 'Phone number format', name: nextId('pf'), value: template.phoneNumberFormat ?? 'FULL',
      options: [['FULL', 'FULL (+14155552671)'], ['NUMBER_ONLY', 'NUMBER_ONLY (14155552671)']] }), 'phoneNumberFormat'),
    beforeTag, afterTag,
    h('button', { type: 'button', class: 'secondary', onclick: () => { row.remove(); renumber(list.closest('form')); } },
      'Remove this template'));
  voiceOnly();
  list.append(row);
}

function numberRow(list, number = {}) {
  const row = h('fieldset', { class: 'row-group', 'data-row': 'numbers' });
  const caps = number.capabilities ?? ['SMS'];
  row.append(h('legend', {}, 'Number'),
    keyed(field({ label: 'Number', name: nextId('n'), value: number.number ?? '', required: true }), 'number'),
    keyed(field({ label: 'Type', name: nextId('t'), value: number.type ?? 'PHONE_NUMBER',
      options: [['PHONE_NUMBER', 'Phone number'], ['TOLL_FREE', 'Toll-free'], ['SHORT_CODE', 'Short code']] }), 'type'),
    h('fieldset', { class: 'inline' },
      h('legend', {}, 'Capabilities'),
      keyedCheck(checkbox({ label: 'SMS', name: nextId('sms'), checked: caps.includes('SMS') }), 'capabilities.SMS'),
      keyedCheck(checkbox({ label: 'Voice', name: nextId('voice'), checked: caps.includes('VOICE') }), 'capabilities.VOICE')),
    keyed(field({ label: 'Supported countries (toll-free, short code)', name: nextId('sc'),
      value: (number.supportedCountries ?? []).join(', '), help: 'ISO codes separated by commas: US, CA' }), 'supportedCountries'),
    keyedCheck(checkbox({ label: 'Send from this number', name: nextId('sel'), checked: number.selected ?? true }), 'selected'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { row.remove(); renumber(list.closest('form')); } },
      'Remove this number'));
  list.append(row);
}

function keyedCheck(wrapper, key) {
  wrapper.querySelector('input').dataset.key = key;
  return wrapper;
}

/** Give every input of every row its API name for the row's current position. */
export function renumber(form) {
  for (const kind of ['requests', 'numbers']) {
    form.querySelectorAll(`[data-row="${kind}"]`).forEach((row, i) => {
      row.querySelector('legend').textContent = `${kind === 'requests' ? 'Request template' : 'Number'} ${i + 1}`;
      for (const el of row.querySelectorAll('[data-key]')) {
        const key = el.dataset.key;
        el.dataset.target = `${kind}[${i}].${key.startsWith('capabilities') ? 'capabilities' : key}`;
      }
    });
  }
}

/** The form's parts, filled from `sender` when editing. */
export function customProviderFields(sender = null, dev = null) {
  const auth = sender?.authentication ?? {};
  const authMethod = field({ label: 'Authentication', name: 'authMethod', target: 'authentication.method', value: auth.method ?? 'BEARER',
    options: Object.keys(AUTH_FIELDS).map((m) => [m, m]) });
  const authBox = h('div', { class: 'auth-fields' });
  const showAuth = () => {
    const method = authMethod.querySelector('select').value;
    authBox.replaceChildren(...AUTH_FIELDS[method].map(([key, label, type]) => field({
      label, name: `auth_${key}`, target: `authentication.${key}`, type, required: true,
      value: SECRETS.has(key) ? '' : (auth.method === method ? auth[key] ?? '' : ''),
      help: SECRETS.has(key) && sender ? 'Write-only: enter it again to save.' : undefined,
    })));
  };
  authMethod.querySelector('select').addEventListener('change', showAuth);
  showAuth();

  const requests = h('div', { class: 'rows' });
  for (const template of sender?.requests ?? [{}]) requestRow(requests, template);
  const numbers = h('div', { class: 'rows' });
  for (const number of sender?.numbers ?? []) numberRow(numbers, number);

  const parts = [
    h('fieldset', {}, h('legend', {}, 'Authentication'), authMethod, authBox),
    h('fieldset', { id: nextId('reqs'), 'data-target': 'requests', tabindex: '-1' },
      h('legend', {}, 'Request templates (one per delivery method and HTTP method)'), requests,
      h('button', { type: 'button', class: 'secondary', onclick: (e) => { requestRow(requests); renumber(e.target.closest('form')); } },
        'Add a request template')),
    h('fieldset', { id: nextId('nums'), 'data-target': 'numbers', tabindex: '-1' },
      h('legend', {}, 'Numbers (optional)'), numbers,
      h('button', { type: 'button', class: 'secondary', onclick: (e) => { numberRow(numbers); renumber(e.target.closest('form')); } },
        'Add a number')),
  ];
  // The error slots of the two groups name their fieldsets.
  for (const group of parts.slice(1)) {
    const slot = h('p', { class: 'field-error', 'data-error-for': group.id, hidden: true });
    group.querySelector('legend').after(slot);
  }

  const fillFromSandbox = dev ? () => {
    authMethod.querySelector('select').value = 'OAUTH2';
    showAuth();
    authBox.querySelector('[data-target="authentication.authUrl"]').value = dev.oauth.tokenUrl;
    authBox.querySelector('[data-target="authentication.clientId"]').value = dev.oauth.clientId;
    authBox.querySelector('[data-target="authentication.clientSecret"]').value = dev.oauth.clientSecret;
    requests.replaceChildren();
    requestRow(requests, { deliveryMethod: 'SMS', method: 'GET', url: `${dev.gatewayUrl}?to=\${to}&from=\${from}&text=\${message}` });
    renumber(requests.closest('form'));
  } : null;
  return { parts, fillFromSandbox };
}

/** The body for POST/PUT from the form. */
export function customProviderBody(form) {
  renumber(form);
  const method = form.querySelector('[data-target="authentication.method"]').value;
  const authentication = { method };
  for (const [key] of AUTH_FIELDS[method]) {
    authentication[key] = form.querySelector(`[data-target="authentication.${key}"]`).value.trim();
  }
  const requests = [...form.querySelectorAll('[data-row="requests"]')].map((row) => {
    const v = (key) => row.querySelector(`[data-key="${key}"]`).value;
    const template = { deliveryMethod: v('deliveryMethod'), method: v('method'), url: v('url').trim(), phoneNumberFormat: v('phoneNumberFormat') };
    const headers = parseHeaders(v('headers'));
    if (Object.keys(headers).length) template.headers = headers;
    if (v('body')) template.body = v('body');
    if (template.deliveryMethod === 'VOICE') {
      if (v('beforeTag')) template.beforeTag = v('beforeTag');
      if (v('afterTag')) template.afterTag = v('afterTag');
    }
    return template;
  });
  const numbers = [...form.querySelectorAll('[data-row="numbers"]')].map((row) => {
    const v = (key) => row.querySelector(`[data-key="${key}"]`);
    const number = {
      number: v('number').value.trim(), type: v('type').value, selected: v('selected').checked, available: true,
      capabilities: ['SMS', 'VOICE'].filter((c) => v(`capabilities.${c}`).checked),
    };
    const countries = v('supportedCountries').value.split(',').map((c) => c.trim()).filter(Boolean);
    if (countries.length) number.supportedCountries = countries;
    return number;
  });
  return { authentication, requests, ...(numbers.length ? { numbers } : {}) };
}
