// A notification policy in words: its quotas, country limit, routing, cooldowns and fraudProtection.
import { envPath } from './api.js';

export function policiesPath(envId, policyId) {
  const path = envPath(envId, '/notificationsPolicies');
  return policyId ? `${path}/${encodeURIComponent(policyId)}` : path;
}

const list = (items) => (items ?? []).join(', ');

export function quotaWords(quota) {
  const who = quota.type === 'ENVIRONMENT' ? 'for the whole environment' : 'per user';
  const count = quota.total ?? (quota.unclaimed !== undefined ? `${quota.unclaimed} unclaimed (${quota.claimed ?? '?'} claimed)` : '?');
  return `${count} ${list(quota.deliveryMethods)} ${who} per day`;
}

export function countryLimitWords(limit) {
  if (!limit || limit.type === 'NONE') return 'Any country';
  const methods = list(limit.deliveryMethods ?? ['SMS', 'Voice']);
  const verb = limit.type === 'ALLOWED' ? 'only to' : 'not to';
  return `${methods} ${verb} ${list(limit.countries)}`;
}

/** One routing condition: "SMS to DE: Germany, PINGONE_TWILIO", sender ids by name. */
export function conditionWords(condition, senderName) {
  const methods = list(condition.deliveryMethods ?? ['SMS', 'VOICE']);
  const where = condition.countries?.length ? `to ${list(condition.countries)}` : 'to any other country';
  const chain = (condition.fallbackChain ?? []).map((entry) => senderName(entry.id)).join(', then ');
  return `${methods} ${where}: ${chain}`;
}

function duration(period) {
  const unit = period.timeUnit === 'MINUTES' ? 'min' : 's';
  return `${period.duration} ${unit}`;
}

export function cooldownWords(method, config) {
  if (!config?.enabled) return `${method}: off`;
  const periods = (config.periods ?? []).map(duration).join(', then ');
  const group = config.groupBy ? `, by ${config.groupBy}` : '';
  return `${method}: wait ${periods}; at most ${config.resendLimit} resends, then 30 min blocked${group}`;
}

export function fraudWords(fraud) {
  const out = [];
  const types = fraud.numberTypes;
  out.push(types?.enabled ? `Number types refused: ${list(types.refused ?? ['PREMIUM_RATE', 'SHARED_COST', 'UNKNOWN'])}` : 'Number types: off');
  const velocity = fraud.prefixVelocity;
  out.push(velocity?.enabled
    ? `Prefix velocity: more than ${velocity.distinctNumbers ?? 20} numbers of one ${velocity.prefixLength ?? 7}-digit prefix in ${velocity.windowSeconds ?? 600} s blocks it for ${velocity.blockSeconds ?? 3600} s`
    : 'Prefix velocity: off');
  const cap = fraud.numberHourlyCap;
  out.push(cap?.enabled ? `At most ${cap.limit} sends to one number per hour` : 'Hourly cap per number: off');
  return out;
}
