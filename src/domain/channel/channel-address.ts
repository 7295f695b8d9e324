import { ALL_CHANNELS, CHANNELS, type Channel } from './channels';

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

/**
 * The profile's address for `channel` and the trait it came from; `{ found: false }` when it has none.
 * A channel without address traits always has one: `undefined`, the provider's configuration holds it.
 */
export function findAddress(
  channel: Channel,
  traits: Record<string, unknown>,
): { found: true; path: string | null; address: unknown } | { found: false; tried: string[] } {
  const paths = ADDRESS_PATHS[channel];
  if (paths.length === 0) return { found: true, path: null, address: undefined };
  for (const path of paths) {
    const value = at(traits, path);
    if (present(value)) return { found: true, path, address: value };
  }
  return { found: false, tried: [...paths] };
}
