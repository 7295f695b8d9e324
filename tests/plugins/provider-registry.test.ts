import { Channel } from '../../src/domain/channel/channel.enum';
import type {
  ProviderDefinition,
  SendContext,
  SettingsOf,
  SettingsSchema,
} from '../../src/domain/provider/provider-plugin';
import { PermanentProviderError } from '../../src/domain/provider/provider.errors';
import { ProviderRegistry } from '../../src/domain/provider/provider-registry';
import { PROVIDERS } from '../../src/plugins/providers';
import { sendContext } from '../helpers/fakes/send-context';

const echoSchema = {
  type: 'object',
  properties: {
    baseUrl: { type: 'string', description: 'Where to POST', format: 'http-url', minLength: 1 },
    timeoutMs: { type: 'integer', description: 'Timeout in ms', minimum: 1, default: 2500 },
    mode: { type: 'string', description: 'How', enum: ['fast', 'slow'], default: 'fast' },
    port: { type: 'integer', description: 'Port', minimum: 1, maximum: 65535 },
    headers: {
      type: 'object',
      description: 'Extra headers',
      propertyNames: { format: 'header-name' },
      additionalProperties: { type: 'string', format: 'single-line', description: 'A header value' },
    },
  },
  required: ['baseUrl'],
  additionalProperties: false,
} as const satisfies SettingsSchema;

/** A plugin that records the settings it was given. */
function echo() {
  const seen: SettingsOf<typeof echoSchema>[] = [];
  const plugin: ProviderDefinition<typeof echoSchema> = {
    slug: 'echo',
    title: 'Echo',
    channels: [Channel.WEBHOOK],
    settings: echoSchema,
    async send(ctx) {
      // derived type: baseUrl, timeoutMs and mode are never undefined here
      const { baseUrl, timeoutMs, mode } = ctx.settings;
      seen.push(ctx.settings);
      return { externalId: `${baseUrl}|${timeoutMs.toFixed(0)}|${mode.toUpperCase()}` };
    },
  };
  return { plugin, seen, registry: new ProviderRegistry([plugin as ProviderDefinition]) };
}

const ctx = (settings: unknown): SendContext<unknown> =>
  sendContext({ channel: Channel.WEBHOOK, settings, content: {} });

describe('ProviderRegistry', () => {
  it('validates settings before send and applies the schema defaults, leaving the given object alone', async () => {
    const { registry, seen } = echo();
    const settings = { baseUrl: 'https://hooks.example.com' };
    await expect(registry.send('echo', ctx(settings))).resolves.toEqual({
      externalId: 'https://hooks.example.com|2500|FAST',
    });
    expect(seen[0]).toEqual({ baseUrl: 'https://hooks.example.com', timeoutMs: 2500, mode: 'fast' });
    expect(settings).toEqual({ baseUrl: 'https://hooks.example.com' });
  });

  it('validates one settings object once: later sends reuse the result', async () => {
    const { registry, seen } = echo();
    const settings = { baseUrl: 'https://hooks.example.com', mode: 'slow' };
    await registry.send('echo', ctx(settings));
    await registry.send('echo', ctx(settings));
    expect(seen[1]).toBe(seen[0]);
    // another object with the same content is validated on its own
    await registry.send('echo', ctx({ ...settings }));
    expect(seen[2]).not.toBe(seen[0]);
    expect(seen[2]).toEqual(seen[0]);

    // a bad settings object fails every send the same way, without reaching the plugin
    const bad = { baseUrl: 'ftp://hooks.example.com' };
    for (let i = 0; i < 2; i++) {
      await expect(registry.send('echo', ctx(bad))).rejects.toThrow(
        new PermanentProviderError('echo: settings.baseUrl must be an http(s) URL'),
      );
    }
    expect(seen).toHaveLength(3);
  });

  it.each([
    [{}, 'echo: settings.baseUrl is required'],
    [{ baseUrl: '' }, 'echo: settings.baseUrl is required'],
    [{ baseUrl: 'not a url' }, 'echo: settings.baseUrl must be an http(s) URL'],
    [{ baseUrl: 'http://x', timeoutMs: 0 }, 'echo: settings.timeoutMs must be a positive number'],
    [{ baseUrl: 'http://x', timeoutMs: 1.5 }, 'echo: settings.timeoutMs must be an integer'],
    [{ baseUrl: 'http://x', port: 70000 }, 'echo: settings.port must be an integer between 1 and 65535'],
    [{ baseUrl: 'http://x', mode: 'loud' }, 'echo: settings.mode must be one of fast, slow'],
    [{ baseUrl: 'http://x', extra: 1 }, 'echo: settings.extra is not a known setting'],
    [{ baseUrl: 'http://x', headers: { 'a b': 'x' } }, 'echo: settings.headers has an invalid name "a b"'],
    [{ baseUrl: 'http://x', headers: { 'X-A': 'a\nb' } }, 'echo: settings.headers.X-A must be a single-line string'],
    [{ baseUrl: 'http://x', headers: 'x' }, 'echo: settings.headers must be an object'],
    [null, 'echo: settings must be an object'],
    [undefined, 'echo: settings must be an object'],
  ])('settings %p are refused with a permanent error: %s', async (settings, message) => {
    const { registry, seen } = echo();
    await expect(registry.send('echo', ctx(settings))).rejects.toThrow(new PermanentProviderError(message));
    expect(seen).toHaveLength(0);
  });

  it('never puts a setting value in the message', async () => {
    const { registry } = echo();
    const error = await registry.send('echo', ctx({ baseUrl: 'ftp://user:s3cret@example.com' })).catch((e) => e);
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.message).not.toContain('s3cret');
  });

  it('checkSettings answers the same problems for saving, without applying defaults', () => {
    const { registry } = echo();
    const settings = { baseUrl: 'https://hooks.example.com' };
    expect(registry.checkSettings('echo', settings)).toBeNull();
    expect(settings).toEqual({ baseUrl: 'https://hooks.example.com' });
    expect(registry.checkSettings('echo', { baseUrl: 'x' })).toEqual({
      path: ['baseUrl'],
      problem: 'must be an http(s) URL',
    });
  });

  it("get(slug).send goes through the registry's validation", async () => {
    const { registry, plugin, seen } = echo();
    expect(registry.get('echo')?.settings).toBe(plugin.settings);
    await expect(registry.get('echo')!.send(ctx({ baseUrl: 'x' }) as never)).rejects.toBeInstanceOf(
      PermanentProviderError,
    );
    await registry.get('echo')!.send(ctx({ baseUrl: 'http://x' }) as never);
    expect(seen).toEqual([{ baseUrl: 'http://x', timeoutMs: 2500, mode: 'fast' }]);
  });

  it('an unknown slug is a permanent failure; two plugins with one slug are refused', async () => {
    const { registry, plugin } = echo();
    await expect(registry.send('nope', ctx({}))).rejects.toThrow(
      new PermanentProviderError('provider "nope" is not installed'),
    );
    expect(registry.get('nope')).toBeUndefined();
    expect(() => new ProviderRegistry([plugin, plugin] as ProviderDefinition[])).toThrow(/share a slug/);
  });

  it("every installed plugin's schema compiles and accepts an empty configuration only when nothing is required", () => {
    const registry = new ProviderRegistry(PROVIDERS);
    for (const p of PROVIDERS) {
      const problem = registry.checkSettings(p.slug, {});
      expect(problem === null).toBe((p.settings.required ?? []).length === 0);
    }
  });
});
