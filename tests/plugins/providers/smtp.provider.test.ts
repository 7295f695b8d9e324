import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Channel } from '../../../src/domain/channel/channel.enum';
import { PermanentProviderError, RetryableProviderError } from '../../../src/domain/provider/provider.errors';
import { smtpProvider, type SmtpSettings } from '../../../src/plugins/providers/smtp/smtp.provider';
import { closedPort } from '../../helpers/fakes/http-fake';
import { sendContext } from '../../helpers/fakes/send-context';
import { sendThrough } from '../../helpers/provider-send';
import { SmtpFake } from '../../helpers/fakes/smtp-fake';

const credentials = { username: 'mailer', password: 's3cret-pass' };

describe('smtp provider', () => {
  let smtp: SmtpFake;
  let settings: SmtpSettings;

  beforeAll(async () => {
    smtp = await SmtpFake.start(credentials);
  });
  afterAll(() => smtp.close());
  beforeEach(() => {
    smtp.messages.length = 0;
    settings = {
      host: smtp.host,
      port: smtp.port,
      secure: false,
      allowPlaintext: true, // the fake is a plain local relay without STARTTLS
      username: credentials.username,
      password: credentials.password,
      from: '"Pigeon Shop" <shop@example.com>',
      replyTo: 'help@example.com',
      timeoutMs: 2000,
    };
  });

  const ctxFor = (overrides: { settings?: SmtpSettings; address?: unknown } = {}) =>
    sendContext<SmtpSettings>({
      channel: Channel.EMAIL,
      settings: overrides.settings ?? settings,
      address: 'address' in overrides ? overrides.address : 'ada@example.com',
      content: {
        subject: 'Your order o-42 – shipped',
        text: 'Hello Ada, it shipped.',
        html: '<p>Hello <b>Ada</b></p>',
      },
      idempotencyKey: 'delivery-7:1',
    });

  it('describes every setting and marks the password secret', () => {
    for (const [name, prop] of Object.entries(smtpProvider.settings.properties)) {
      expect(`${name}: ${prop.description ?? ''}`).toMatch(/: \S/);
    }
    expect(smtpProvider.settings.properties.password.secret).toBe(true);
    expect(smtpProvider.channels).toEqual([Channel.EMAIL]);
  });

  it('sends the mail with auth, From, To, Subject, text and html', async () => {
    const result = await sendThrough(smtpProvider, ctxFor());

    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0];
    expect(mail.user).toBe('mailer');
    expect(mail.envelope).toEqual({ from: 'shop@example.com', to: ['ada@example.com'] });
    expect(mail.headers.from).toBe('Pigeon Shop <shop@example.com>');
    expect(mail.headers.to).toBe('ada@example.com');
    expect(mail.headers['reply-to']).toBe('help@example.com');
    expect(mail.subject).toBe('Your order o-42 – shipped');
    expect(mail.text).toBe('Hello Ada, it shipped.');
    expect(mail.html).toBe('<p>Hello <b>Ada</b></p>');
    expect(mail.headers['x-pigeon-idempotency-key']).toBe('delivery-7:1');
    expect(result.externalId).toMatch(/^<.+@.+>$/);
    expect(mail.headers['message-id']).toBe(result.externalId);
  });

  it('sends a text-only mail', async () => {
    const ctx = ctxFor();
    ctx.content = { subject: 'Plain', text: 'Only text' };
    await sendThrough(smtpProvider, ctx);
    expect(smtp.messages[0].text).toBe('Only text');
    expect(smtp.messages[0].html).toBeUndefined();
  });

  it('refuses a server without STARTTLS by default: permanent, and the password is never sent', async () => {
    const { allowPlaintext: _allowed, ...defaults } = settings;
    smtp.logins.length = 0;
    const connectionsBefore = smtp.connections;
    const error = await sendThrough(smtpProvider, ctxFor({ settings: defaults })).catch((e) => e);
    expect(smtp.connections).toBe(connectionsBefore + 1); // it did connect, and stopped before AUTH
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.message).toMatch(/offers no STARTTLS/);
    expect(error.message).toMatch(/allowPlaintext/);
    expect(smtp.logins).toEqual([]);
    expect(smtp.messages).toHaveLength(0);
    // allowPlaintext: false written out is the same as the default
    const explicit = await sendThrough(
      smtpProvider,
      ctxFor({ settings: { ...defaults, allowPlaintext: false } }),
    ).catch((e) => e);
    expect(explicit).toBeInstanceOf(PermanentProviderError);
    expect(smtp.logins).toEqual([]);
    // the explicit setting for a local relay sends, with the login
    await sendThrough(smtpProvider, ctxFor());
    expect(smtp.logins).toEqual([credentials]);
    expect(smtp.messages).toHaveLength(1);
  });

  it('describes allowPlaintext in the settings schema, off by default', () => {
    const prop = smtpProvider.settings.properties.allowPlaintext;
    expect(prop).toMatchObject({ type: 'boolean', default: false });
    expect(prop.description).toMatch(/STARTTLS/);
  });

  it('bad credentials (535) are permanent', async () => {
    const error = await sendThrough(smtpProvider, ctxFor({ settings: { ...settings, password: 'wrong' } })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.status).toBe(535);
    expect(error.message).not.toContain('wrong');
    expect(smtp.messages).toHaveLength(0);
  });

  it.each([
    ['RCPT', 451],
    ['DATA', 451],
    ['RCPT', 452],
    ['MAIL', 421],
  ] as const)('a %s refused with %i is retryable', async (stage, code) => {
    smtp.failNext({ stage, code, message: 'Try again later' });
    const error = await sendThrough(smtpProvider, ctxFor()).catch((e) => e);
    expect(error).toBeInstanceOf(RetryableProviderError);
    expect(error.status).toBe(code);
    expect(smtp.messages).toHaveLength(0);
  });

  it.each([
    ['RCPT', 550],
    ['RCPT', 553],
    ['DATA', 554],
  ] as const)('a %s refused with %i is permanent', async (stage, code) => {
    smtp.failNext({ stage, code, message: 'No such user' });
    const error = await sendThrough(smtpProvider, ctxFor()).catch((e) => e);
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.status).toBe(code);
  });

  it('a refused connection is retryable', async () => {
    const port = await closedPort();
    const error = await sendThrough(smtpProvider, ctxFor({ settings: { ...settings, port } })).catch((e) => e);
    expect(error).toBeInstanceOf(RetryableProviderError);
  });

  it('a server that never greets times out or is aborted, retryable', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (silent.address() as AddressInfo).port;
      const error = await sendThrough(smtpProvider, ctxFor({ settings: { ...settings, port, timeoutMs: 200 } })).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(RetryableProviderError);

      // an aborted delivery stops waiting at once, retryable
      const controller = new AbortController();
      const ctx = { ...ctxFor({ settings: { ...settings, port, timeoutMs: 300 } }), signal: controller.signal };
      setTimeout(() => controller.abort(), 30);
      const started = Date.now();
      await expect(sendThrough(smtpProvider, ctx)).rejects.toThrow(new RetryableProviderError('smtp: aborted'));
      expect(Date.now() - started).toBeLessThan(250);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it.each([undefined, null, 42, { email: 'ada@example.com' }, 'not-an-email'])(
    'address %p is permanent',
    async (address) => {
      const error = await sendThrough(smtpProvider, ctxFor({ address })).catch((e) => e);
      expect(error).toBeInstanceOf(PermanentProviderError);
      expect(smtp.messages).toHaveLength(0);
    },
  );

  it('missing settings are permanent with a clear message', async () => {
    const { host: _host, ...noHost } = settings;
    await expect(sendThrough(smtpProvider, ctxFor({ settings: noHost as SmtpSettings }))).rejects.toThrow(
      new PermanentProviderError('smtp: settings.host is required'),
    );
    await expect(sendThrough(smtpProvider, ctxFor({ settings: { ...settings, from: '' } }))).rejects.toThrow(
      'smtp: settings.from is required',
    );
    await expect(
      sendThrough(smtpProvider, ctxFor({ settings: { ...settings, port: 'x' as unknown as number } })),
    ).rejects.toBeInstanceOf(PermanentProviderError);
  });
});
