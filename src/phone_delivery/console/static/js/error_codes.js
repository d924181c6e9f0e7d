// Provider error codes in words. Twilio's codes are numbers (www.twilio.com/docs/api/errors);
// other providers' failures carry the HTTP status of their answer; INTERNAL is phone-delivery's own.

const TWILIO = {
  20003: 'Authentication failed: the Account SID or auth token is wrong, or the account is suspended.',
  20404: 'Twilio does not know this resource (a Messaging Service, number or Verify Service that is not in the account).',
  20429: 'Too many requests: Twilio is limiting the rate of this account. It is tried again.',
  21211: "The recipient is not a valid phone number ('To' is invalid).",
  21408: 'The account may not send to this country or region (Twilio geographic permissions).',
  21606: 'The sending number cannot send SMS (or is not a number of this account).',
  21608: 'A trial account may only send to verified numbers.',
  21610: 'The recipient answered STOP: they unsubscribed from this sender. Nothing is sent until they answer START.',
  21612: 'Twilio cannot route a message from this sender to this number.',
  21614: 'The recipient is not a mobile number: it cannot receive SMS.',
  21617: 'The message is too long.',
  30001: 'Queue overflow: too many messages were waiting at Twilio.',
  30002: 'The Twilio account is suspended.',
  30003: 'The handset is unreachable: switched off or out of coverage.',
  30004: 'The message was blocked (by the recipient, or their carrier).',
  30005: 'Unknown handset: the number does not exist or is no longer in service.',
  30006: 'The number is a landline or its carrier cannot receive messages.',
  30007: 'The carrier filtered the message (taken for spam).',
  30008: 'The carrier reported an unknown error.',
  30034: 'US A2P 10DLC: the sending number is not registered for application-to-person messages.',
  60200: 'Twilio Verify refused a parameter of the request.',
  60203: 'Twilio Verify: too many codes were sent to this number; wait before sending again.',
  60410: 'Twilio Verify blocked this number prefix (suspected fraud).',
};

const HTTP = {
  400: 'The provider refused the request as invalid (HTTP 400).',
  401: 'The provider refused the credentials (HTTP 401).',
  403: 'The provider refused: these credentials may not do this (HTTP 403).',
  404: 'The provider does not know the address or resource (HTTP 404).',
  408: 'The provider timed out reading the request (HTTP 408).',
  429: 'Too many requests: the provider is limiting the rate (HTTP 429). It is tried again.',
  500: 'The provider failed internally (HTTP 500). It is tried again.',
  502: 'A gateway in front of the provider failed (HTTP 502). It is tried again.',
  503: 'The provider is unavailable (HTTP 503). It is tried again.',
  504: 'A gateway in front of the provider timed out (HTTP 504). It is tried again.',
};

/** The code and its words, the code once: "Twilio 30003: The handset...", "INTERNAL: phone-delivery's own...". */
export function describeError(code, provider = '', message = '') {
  const words = explain(code, provider) ?? message ?? '';
  if (code === null || code === undefined || code === '') return words;
  return words.includes(String(code)) ? words : `${code}: ${words}`;
}

/** Words for an error code, or null when the console does not know it. */
export function explain(code, provider = '') {
  if (code === null || code === undefined || code === '') return null;
  const text = String(code);
  if (text === 'INTERNAL') return "phone-delivery's own error (not the sender's): the notification waits and is tried again.";
  const number = Number(text);
  const twilio = provider.includes('TWILIO') || (Number.isInteger(number) && number >= 10000);
  if (twilio && TWILIO[number]) return `Twilio ${number}: ${TWILIO[number]}`;
  if (HTTP[number]) return HTTP[number];
  if (Number.isInteger(number) && number >= 500 && number < 600) return `The provider failed (HTTP ${number}). It is tried again.`;
  if (twilio && Number.isInteger(number)) return `Twilio error ${number}: see www.twilio.com/docs/api/errors/${number}.`;
  return null;
}
