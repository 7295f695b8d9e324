import { Channel } from './channel.enum';

/**
 * Where each channel finds its address on a profile (CONTRACT §3.2 step 5), first match wins.
 * WEBHOOK has none: its address is the provider's URL.
 */
export const ADDRESS_PATHS: Record<Channel, string[]> = {
  [Channel.EMAIL]: ['email'],
  [Channel.SMS]: ['phone_number', 'phone', 'sms'],
  [Channel.WHATSAPP]: ['whatsapp', 'phone_number', 'tokens.whatsAppToken'],
  [Channel.SLACK]: ['slack', 'tokens.slackToken'],
  [Channel.MSTEAMS]: ['ms_teams', 'tokens.microsoftTeamsToken'],
  [Channel.PUSH]: ['firebaseToken', 'apn', 'tokens.push'],
  [Channel.WEBHOOK]: [],
};

function at(traits: Record<string, unknown>, dotted: string): unknown {
  let value: unknown = traits;
  for (const key of dotted.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(value, key))
      return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function present(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (typeof value === 'object') return Object.keys(value as object).length > 0;
  return true;
}

/** The profile's address for `channel` and the trait it came from; `{ found: false }` when it has none. */
export function findAddress(
  channel: Channel,
  traits: Record<string, unknown>,
): { found: true; path: string | null; address: unknown } | { found: false; tried: string[] } {
  if (channel === Channel.WEBHOOK) return { found: true, path: null, address: undefined };
  for (const path of ADDRESS_PATHS[channel]) {
    const value = at(traits, path);
    if (present(value)) return { found: true, path, address: value };
  }
  return { found: false, tried: ADDRESS_PATHS[channel] };
}
