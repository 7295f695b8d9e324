import { Writable } from 'node:stream';
import pino from 'pino';
import { ALL_CHANNELS, Channel } from '../../../src/domain/channel/channel.enum';
import { PermanentProviderError, RetryableProviderError } from '../../../src/domain/provider/provider.errors';
import { createLogProvider, logProvider, type LogSettings } from '../../../src/plugins/providers/log/log.provider';
import type { RenderedContent } from '../../../src/domain/provider/provider-plugin';
import { sendContext } from '../../helpers/fakes/send-context';
import { sendThrough } from '../../helpers/provider-send';

/** A pino logger writing synchronously into `lines`. */
function memoryLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

const SECRET = 'super-secret-api-key-value';

describe('log provider', () => {
  it('serves every channel and describes every setting', () => {
    expect(logProvider.slug).toBe('log');
    expect(logProvider.channels).toEqual(ALL_CHANNELS);
    for (const prop of Object.values(logProvider.settings.properties)) {
      expect(prop.description.length).toBeGreaterThan(0);
    }
    expect(logProvider.settings.properties.apiKey.secret).toBe(true);
  });

  it('writes one structured line and returns log-<idempotencyKey>', async () => {
    const { logger, lines } = memoryLogger();
    const provider = createLogProvider(logger);
    const result = await sendThrough(
      provider,
      sendContext<LogSettings>({
        channel: Channel.EMAIL,
        settings: { label: 'dev', apiKey: SECRET },
        address: 'ada@example.com',
        content: { subject: 'Hi', text: 'Hello' },
        idempotencyKey: 'delivery-1:1',
      }),
    );

    expect(result).toEqual({ externalId: 'log-delivery-1:1' });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({
      level: 30,
      provider: 'log',
      label: 'dev',
      channel: 'EMAIL',
      to: 'ada@example.com',
      userId: 'user-1',
      messageId: 'msg-1',
      idempotencyKey: 'delivery-1:1',
      content: { subject: 'Hi', text: 'Hello' },
      settings: { label: 'dev', apiKey: '********' },
    });
    expect(lines[0]).not.toContain(SECRET);
  });

  it('never logs secrets: schema secrets, token addresses, secret-looking settings', async () => {
    const { logger, lines } = memoryLogger();
    const provider = createLogProvider(logger);
    const settings: LogSettings = { apiKey: SECRET };
    const cases: [Channel, unknown, RenderedContent][] = [
      [Channel.SLACK, { accessToken: `${SECRET}-4`, channel: 'C123' }, { text: 'hi' }],
      [Channel.PUSH, `fcm-${SECRET}-5`, { title: 't', body: 'b' }],
      [Channel.SMS, '+15555550100', { body: 'b' }],
    ];
    for (const [channel, address, content] of cases) {
      await sendThrough(provider, sendContext({ channel, settings, address, content }));
    }
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toContain(SECRET);
    expect(JSON.parse(lines[0]).to).toEqual({ accessToken: '********', channel: 'C123' });
    expect(JSON.parse(lines[1]).to).toMatch(/^fcm-…\(\d+ chars\)$/);
    expect(JSON.parse(lines[2]).to).toBe('+15555550100');

    // settings the schema does not know are refused before anything is logged, without their values
    const extra = { apiKey: SECRET, password: `${SECRET}-2`, nested: { authToken: `${SECRET}-3` } };
    const refused = sendThrough(
      provider,
      sendContext({ channel: Channel.SMS, settings: extra, content: { body: 'b' } }),
    );
    await expect(refused).rejects.toThrow(new PermanentProviderError('log: settings.password is not a known setting'));
    expect(lines).toHaveLength(3);

    // and the provider masks secret-looking names itself, should such settings reach it another way
    await provider.send(
      sendContext({ channel: Channel.SMS, settings: { ...extra, level: 'info' as const }, content: { body: 'b' } }),
    );
    expect(lines).toHaveLength(4);
    expect(lines[3]).not.toContain(SECRET);
    expect(JSON.parse(lines[3]).settings).toEqual({
      apiKey: '********',
      password: '********',
      nested: { authToken: '********' },
      level: 'info',
    });
  });

  it('honours level and can simulate failures', async () => {
    const { logger, lines } = memoryLogger();
    const provider = createLogProvider(logger);
    const ctx = (settings: LogSettings) =>
      sendContext({ channel: Channel.SMS, settings, address: '+1', content: { body: 'b' } });

    await sendThrough(provider, ctx({ level: 'warn' }));
    expect(JSON.parse(lines[0]).level).toBe(40);
    await expect(sendThrough(provider, ctx({ simulateFailure: 'retryable' }))).rejects.toBeInstanceOf(
      RetryableProviderError,
    );
    await expect(sendThrough(provider, ctx({ simulateFailure: 'permanent' }))).rejects.toBeInstanceOf(
      PermanentProviderError,
    );
    await expect(sendThrough(provider, ctx({ level: 'loud' as never }))).rejects.toBeInstanceOf(PermanentProviderError);
  });
});
