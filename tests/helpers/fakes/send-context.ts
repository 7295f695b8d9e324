import { Channel } from '../../../src/domain/channel/channel.enum';
import type { RenderedContent, SendContext } from '../../../src/domain/provider/provider-plugin';

/**
 * A complete {@link SendContext} for provider tests; override what the test is about.
 *
 * @example
 * ```ts
 * const ctx = sendContext({ channel: Channel.EMAIL, settings, address: 'ada@example.com', content: { subject: 'Hi' } });
 * ```
 */
export function sendContext<S>(
  overrides: Partial<SendContext<S>> & { settings: S; content: RenderedContent },
): SendContext<S> {
  return {
    channel: Channel.EMAIL,
    address: undefined,
    profile: { userId: 'user-1', traits: { email: 'ada@example.com' } },
    message: { id: 'msg-1', eventName: 'Segment-TrackEvent:Order Completed', data: { orderId: 'o-42', amount: 120 } },
    idempotencyKey: 'idem-1',
    signal: new AbortController().signal,
    ...overrides,
  };
}
