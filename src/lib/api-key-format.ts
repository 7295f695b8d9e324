/**
 * What an API key looks like: generated keys are `pgn_a_…` / `pgn_i_…` with 240 random bits; keys an
 * operator supplies (PIGEON_ADMIN_KEY, PIGEON_INGEST_KEY) must be at least {@link MIN_OPERATOR_KEY_LENGTH}
 * characters. Only the first {@link PREFIX_LENGTH} characters are stored in clear (to find the key and
 * to show it in listings): `pgn_a_` and 4 random characters of a generated key, under a third of the
 * shortest operator key.
 */

/** The shortest key an operator may supply. */
export const MIN_OPERATOR_KEY_LENGTH = 32;

/** How many leading characters of a key are stored in clear to find it, and shown as its `prefix`. */
export const PREFIX_LENGTH = 10;

/**
 * The prefix length of keys created before the prefix was shortened: such keys keep their stored
 * 12-character prefix and are still found by it.
 */
export const LEGACY_PREFIX_LENGTH = 12;

/** Why an operator-supplied key is refused (the key itself is never repeated), or undefined when it is fine. */
export function operatorKeyProblem(key: string): string | undefined {
  if (key.length < MIN_OPERATOR_KEY_LENGTH) {
    return `must be at least ${MIN_OPERATOR_KEY_LENGTH} characters long (it has ${key.length})`;
  }
  return undefined;
}
