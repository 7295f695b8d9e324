import { ALL_CHANNELS, CHANNELS, type Channel, type ChannelDefinition } from './channels';

/**
 * Where each channel finds its address on a profile: the channel table's address traits
 * (`./channels.ts`), tried in order, first present one wins. Empty for a channel whose address
 * is the provider's (WEBHOOK: its URL).
 */
export const ADDRESS_PATHS = Object.fromEntries(
  ALL_CHANNELS.map((c): [Channel, readonly string[]] => [c, CHANNELS[c].address.traits]),
) as Record<Channel, readonly string[]>;

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

/** The outcome of {@link findAddress}. */
export type AddressLookup =
  | { found: true; path: string | null; address: unknown }
  /** No trait holds a value; or (`invalid`) the first one that does fails the channel's address check. */
  | { found: false; tried: string[]; invalid?: { path: string; reason: string } };

/**
 * The profile's address for `channel` and the trait it came from; `{ found: false }` when it has none.
 * A channel without address traits always has one: `undefined`, the provider's configuration holds it.
 * The first present trait decides: when the channel's `validate` (channel table) refuses its value, the
 * profile has no usable address (`invalid` says which trait and why) — later traits are not tried.
 */
export function findAddress(channel: Channel, traits: Record<string, unknown>): AddressLookup {
  const paths = ADDRESS_PATHS[channel];
  if (paths.length === 0) return { found: true, path: null, address: undefined };
  const { validate } = CHANNELS[channel].address as { validate?: ChannelDefinition['address']['validate'] };
  for (const path of paths) {
    const value = at(traits, path);
    if (!present(value)) continue;
    if (!validate) return { found: true, path, address: value };
    const check = validate(value);
    if (check.ok) return { found: true, path, address: check.address };
    return { found: false, tried: [...paths], invalid: { path, reason: check.reason } };
  }
  return { found: false, tried: [...paths] };
}

/** Why a lookup found no usable address, in words for the routing decision's history. */
export function describeMissingAddress(lookup: Extract<AddressLookup, { found: false }>): string {
  return lookup.invalid
    ? `the profile's ${lookup.invalid.path} is not a usable address: ${lookup.invalid.reason}`
    : `the profile has no address (looked at ${lookup.tried.join(', ')})`;
}
