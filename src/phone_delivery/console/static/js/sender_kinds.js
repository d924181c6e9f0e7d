// What the console knows of each PingOne `provider`: the fields of its create step, what its second
// step chooses from (Messaging Services, numbers, channels) and its secrets (sent again on every PUT,
// since PUT is a full replacement and secrets are never returned).

const name = { label: 'Name', name: 'name', help: 'How this sender is named in lists and in the fallback chain.' };
const sid = { label: 'Account SID', name: 'sid', required: true, help: 'AC followed by 32 hexadecimal characters.', dev: ['twilio', 'accountSid'] };
const twilioToken = { label: 'Auth token', name: 'authToken', type: 'password', required: true, secret: true, dev: ['twilio', 'authToken'] };
const syniverseToken = {
  label: 'Access token', name: 'authToken', type: 'password', required: true, secret: true,
  help: 'A Syniverse application access token.', dev: ['syniverse', 'authToken'],
};

export const KINDS = {
  CUSTOM_TWILIO_MESSAGING_SERVICE: {
    label: 'Twilio Messaging Service',
    summary: 'One Messaging Service of your Twilio account sends every message.',
    create: [name, sid, twilioToken],
    nameRequired: { create: true, replace: true }, // as the API requires (the others: replace only, or never)
    chooses: 'messagingServices',
  },
  CUSTOM_TWILIO: {
    label: 'Twilio numbers',
    summary: "Your Twilio account's own phone numbers, toll-free numbers and short codes.",
    create: [name, sid, twilioToken],
    chooses: 'numbers',
  },
  CUSTOM_TWILIO_VERIFY: {
    label: 'Twilio Verify',
    summary: 'A Twilio Verify Service sends the one-time codes.',
    create: [name, sid, twilioToken, {
      label: 'Verify Service SID', name: 'verifyServiceId', required: true, help: 'VA followed by 32 hexadecimal characters.',
      dev: ['twilio', 'verifyServiceId'], editable: true,
    }],
    chooses: null,
  },
  CUSTOM_SYNIVERSE: {
    label: 'Syniverse sender ids',
    summary: "Your Syniverse account's long codes, toll-free numbers and short codes.",
    create: [name, syniverseToken],
    chooses: 'numbers',
  },
  CUSTOM_SYNIVERSE_CHANNELS: {
    label: 'Syniverse channels',
    summary: 'Syniverse channels: one for SMS, one for voice at most.',
    create: [name, syniverseToken],
    nameRequired: { create: false, replace: true },
    chooses: 'channels',
  },
  CUSTOM_PROVIDER: {
    label: 'Custom HTTP gateway',
    summary: 'Any HTTP SMS or voice gateway, with request templates you write.',
    create: null, // its own form (custom_provider_form.js), numbers included: a gateway returns none
    nameRequired: { create: true, replace: true },
    chooses: null,
  },
};

export function kindLabel(provider) {
  return KINDS[provider]?.label ?? provider;
}

/** Words for what a sender sends with: the selected service, numbers or channels. */
export function selectionSummary(sender) {
  if (sender.provider === 'CUSTOM_TWILIO_MESSAGING_SERVICE') {
    const chosen = (sender.messagingServices ?? []).find((s) => s.selected);
    return chosen ? `Messaging Service: ${chosen.name}` : 'No Messaging Service selected';
  }
  if (sender.provider === 'CUSTOM_TWILIO_VERIFY') return `Verify Service ${sender.verifyServiceId}`;
  if (sender.provider === 'CUSTOM_SYNIVERSE_CHANNELS') {
    const chosen = (sender.channels ?? []).filter((c) => c.selected).map((c) => c.name);
    return chosen.length ? `Channels: ${chosen.join(', ')}` : 'No channel selected';
  }
  const numbers = (sender.numbers ?? []).filter((n) => n.selected).map((n) => n.number);
  return numbers.length ? `Numbers: ${numbers.join(', ')}` : 'No number selected';
}

/** The secret fields of a sender, as (target, label) pairs, for the PUT that edits it. */
export function secretFields(sender) {
  if (sender.provider !== 'CUSTOM_PROVIDER') {
    const token = (KINDS[sender.provider]?.create ?? []).find((f) => f.secret);
    return token ? [token] : [];
  }
  return [];
}
