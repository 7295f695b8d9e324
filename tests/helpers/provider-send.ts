import { ProviderError } from '../../src/domain/provider/provider.errors';
import type { ProviderDefinition, SendContext, SendResult } from '../../src/domain/provider/provider-plugin';
import { ProviderRegistry } from '../../src/domain/provider/provider-registry';

const registries = new WeakMap<object, ProviderRegistry>();

/**
 * Sends `ctx` through `provider` the way the pipeline does: by the registry, which validates
 * `ctx.settings` against the provider's schema and applies its defaults before the provider runs.
 *
 * @example
 * ```ts
 * const result = await sendThrough(sendgridProvider, sendContext({ channel: Channel.EMAIL, settings, content }));
 * ```
 */
export function sendThrough(provider: ProviderDefinition<any>, ctx: SendContext<unknown>): Promise<SendResult> {
  let registry = registries.get(provider);
  if (!registry) {
    registry = new ProviderRegistry([provider as ProviderDefinition]);
    registries.set(provider, registry);
  }
  return registry.send(provider.slug, ctx);
}

/** The {@link ProviderError} `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}
