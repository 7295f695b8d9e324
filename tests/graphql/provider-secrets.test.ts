import { HttpFake } from '../helpers/fakes/http-fake';
import { configureProvider, createTemplate, identify, message, send } from '../helpers/pipeline';
import { startTestApp, uid, TEST_SERVICE_CONFIG, type GraphQLResult, type TestApp } from '../helpers/test-app';
import { SecretBox } from '../../src/domain/provider/secret-box';
import type { SettingsProperty } from '../../src/domain/provider/provider-plugin';

/**
 * Provider secrets are write-only (README, "From event to notification: a walk-through"): a masked secret never follows a changed destination, and a
 * configuration whose secrets cannot be decrypted with PIGEON_SECRET (it changed) is repaired by giving them again.
 */
const MASK = '********';
const PROVIDER = 'id channel provider config';
const CONFIGURE = `mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { ${PROVIDER} } }`;

describe('provider secrets through GraphQL', () => {
  let t: TestApp;
  let a: HttpFake;
  let b: HttpFake;

  beforeAll(async () => {
    t = await startTestApp();
    a = await HttpFake.start({ status: 202, headers: { 'x-message-id': 'a-1' } });
    b = await HttpFake.start({ status: 202, headers: { 'x-message-id': 'b-1' } });
  });
  afterAll(async () => {
    await t.close();
    await a.close();
    await b.close();
  });
  beforeEach(() => {
    a.requests.length = 0;
    b.requests.length = 0;
  });

  const configure = (i: Record<string, unknown>, key: string): Promise<GraphQLResult> => t.gql(CONFIGURE, { i }, key);
  const refusal = (res: GraphQLResult) => {
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    return res.errors![0].message;
  };
  const storedConfig = async (id: string) => {
    const raw = (await t.db.rows<{ config: unknown }>('SELECT config FROM provider_configs WHERE id = ?', [id]))[0]
      .config;
    return (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
  };

  describe('a masked secret never follows a changed destination', () => {
    it('sendgrid: a new baseUrl with apiKey "********" is refused, and the key still goes only to the old URL', async () => {
      const ws = await t.newWorkspace();
      const apiKey = `SG.${uid()}`;
      const config = { apiKey, fromEmail: 'shop@example.com', baseUrl: a.url };
      const id = await configureProvider(t, { channel: 'EMAIL', provider: 'sendgrid', config }, ws.adminKey);

      const message1 = refusal(
        await configure(
          { id, channel: 'EMAIL', provider: 'sendgrid', config: { ...config, apiKey: MASK, baseUrl: b.url } },
          ws.adminKey,
        ),
      );
      expect(message1).toContain('config.baseUrl');
      expect(message1).toContain('config.apiKey');
      expect(message1).not.toContain(apiKey);
      expect((await storedConfig(id)).baseUrl).toBe(a.url);

      const templateId = await createTemplate(
        t,
        { key: uid('mail'), name: 'Mail', channels: ['EMAIL'], content: { email: { subject: 'Hi', text: 'Hi' } } },
        true,
        ws.adminKey,
      );
      const userId = uid();
      await identify(t, userId, { email: 'ann@example.com' }, ws.ingestKey);
      const sent = await send(t, { userId, templateId }, ws.adminKey);
      await t.worker().drain(300);
      expect(await message(t, sent.id, ws.adminKey)).toMatchObject({ status: 'SENT' });
      expect(a.requests).toHaveLength(1);
      expect(a.requests[0].headers.authorization).toBe(`Bearer ${apiKey}`);
      expect(b.requests).toHaveLength(0);

      // the secret given again: the move is accepted
      const moved = await configure(
        { id, channel: 'EMAIL', provider: 'sendgrid', config: { ...config, baseUrl: b.url } },
        ws.adminKey,
      );
      expect(moved.errors).toBeUndefined();
      expect(moved.data!.configureProvider.config).toMatchObject({ apiKey: MASK, baseUrl: b.url });
      // other settings still change with the mask, and the default written out is no move
      const renamed = await configure(
        {
          id,
          channel: 'EMAIL',
          provider: 'sendgrid',
          config: { ...config, apiKey: MASK, baseUrl: b.url, fromName: 'S' },
        },
        ws.adminKey,
      );
      expect(renamed.errors).toBeUndefined();
    });

    it('a setting left out counts as its default: writing the default URL out with the mask is no move', async () => {
      const ws = await t.newWorkspace();
      const id = await configureProvider(
        t,
        { channel: 'EMAIL', provider: 'sendgrid', config: { apiKey: 'SG.x', fromEmail: 'a@example.com' } },
        ws.adminKey,
      );
      const res = await configure(
        {
          id,
          channel: 'EMAIL',
          provider: 'sendgrid',
          config: { apiKey: MASK, fromEmail: 'a@example.com', baseUrl: 'https://api.sendgrid.com' },
        },
        ws.adminKey,
      );
      expect(res.errors).toBeUndefined();
      const elsewhere = await configure(
        {
          id,
          channel: 'EMAIL',
          provider: 'sendgrid',
          config: { apiKey: MASK, fromEmail: 'a@example.com', baseUrl: b.url },
        },
        ws.adminKey,
      );
      expect(refusal(elsewhere)).toContain('config.baseUrl');
    });

    it('smtp: a new host or port with password "********" is refused; the same host with the mask is kept', async () => {
      const ws = await t.newWorkspace();
      const config = { host: 'smtp.example.com', port: 587, username: 'u', password: 'pw-1', from: 'a@example.com' };
      const id = await configureProvider(t, { channel: 'EMAIL', provider: 'smtp', config }, ws.adminKey);
      const masked = { ...config, password: MASK };
      const host = refusal(
        await configure(
          { id, channel: 'EMAIL', provider: 'smtp', config: { ...masked, host: 'evil.example' } },
          ws.adminKey,
        ),
      );
      expect(host).toContain('config.host');
      expect(host).toContain('config.password');
      expect(
        refusal(
          await configure({ id, channel: 'EMAIL', provider: 'smtp', config: { ...masked, port: 2525 } }, ws.adminKey),
        ),
      ).toContain('config.port');
      const same = await configure(
        { id, channel: 'EMAIL', provider: 'smtp', config: { ...masked, from: 'b@example.com' } },
        ws.adminKey,
      );
      expect(same.errors).toBeUndefined();
      const [open] = (await t.services.providerConfigs.enabled({ workspaceId: ws.workspaceId })).filter(
        (c) => c.id === id,
      );
      expect(open.settings).toMatchObject({ host: 'smtp.example.com', password: 'pw-1', from: 'b@example.com' });
    });

    it('webhook: a new url is refused while any secret (the signing secret, the headers) is masked', async () => {
      const ws = await t.newWorkspace();
      const config = { url: `${a.url}/hook`, secret: 'whsec', headers: { Authorization: 'Bearer h' } };
      const id = await configureProvider(t, { channel: 'WEBHOOK', provider: 'webhook', config }, ws.adminKey);
      const onlyHeaders = refusal(
        await configure(
          {
            id,
            channel: 'WEBHOOK',
            provider: 'webhook',
            config: { url: `${b.url}/hook`, secret: 'fresh', headers: MASK },
          },
          ws.adminKey,
        ),
      );
      expect(onlyHeaders).toContain('config.url');
      expect(onlyHeaders).toContain('config.headers');
      expect(onlyHeaders).not.toContain('config.secret');
      const fresh = await configure(
        {
          id,
          channel: 'WEBHOOK',
          provider: 'webhook',
          config: { url: `${b.url}/hook`, secret: 'fresh', headers: { Authorization: 'Bearer h2' } },
        },
        ws.adminKey,
      );
      expect(fresh.errors).toBeUndefined();
    });

    it('another plugin for the same configuration is another destination: its secrets must be given again', async () => {
      const ws = await t.newWorkspace();
      const id = await configureProvider(
        t,
        { channel: 'EMAIL', provider: 'log', config: { label: 'dev', apiKey: 'k-1' } },
        ws.adminKey,
      );
      const res = await configure(
        { id, channel: 'EMAIL', provider: 'sendgrid', config: { apiKey: MASK, fromEmail: 'a@example.com' } },
        ws.adminKey,
      );
      expect(refusal(res)).toMatch(/provider \(log → sendgrid\).*config\.apiKey/);
    });

    it('every plugin marks where its requests go (`destination: true`) on each URL setting, derived by the service', () => {
      const unmarked: string[] = [];
      const walk = (slug: string, properties: Record<string, SettingsProperty>, path: string[]) => {
        for (const [name, property] of Object.entries(properties)) {
          if (property.format === 'http-url' && !property.destination)
            unmarked.push(`${slug}.${[...path, name].join('.')}`);
          if (property.properties) walk(slug, property.properties, [...path, name]);
        }
      };
      for (const plugin of t.services.registry.providers) walk(plugin.slug, plugin.settings.properties, []);
      expect(unmarked).toEqual([]);
      const smtp = t.services.registry.get('smtp')!.settings.properties;
      expect([smtp.host.destination, smtp.port.destination]).toEqual([true, true]);
    });
  });

  describe('a configuration PIGEON_SECRET cannot decrypt (the secret changed)', () => {
    /** Seals the configuration's secrets under another PIGEON_SECRET, as if it had been saved before a change. */
    async function sealUnderOtherSecret(id: string): Promise<void> {
      const current = new SecretBox(TEST_SERVICE_CONFIG.secret);
      const other = new SecretBox(`other-${uid()}`);
      const config = await storedConfig(id);
      const resealed = Object.fromEntries(
        Object.entries(config).map(([k, v]) => [k, SecretBox.isSealed(v) ? other.seal(current.open(v)) : v]),
      );
      await t.db.run('UPDATE provider_configs SET config = ? WHERE id = ?', [JSON.stringify(resealed), id]);
    }

    it('an update keeping the mask is BAD_USER_INPUT saying to give the secret again; fresh values repair it', async () => {
      const ws = await t.newWorkspace();
      const config = { apiKey: 'SG.old', fromEmail: 'shop@example.com', baseUrl: a.url };
      const id = await configureProvider(t, { channel: 'EMAIL', provider: 'sendgrid', config }, ws.adminKey);
      await sealUnderOtherSecret(id);

      // reads still work (masked), the pipeline sees the problem
      const listed = await t.gql(`{ providers { ${PROVIDER} } }`, {}, ws.adminKey);
      expect(listed.data!.providers).toEqual([expect.objectContaining({ id, config: { ...config, apiKey: MASK } })]);
      const [before] = await t.services.providerConfigs.enabled({ workspaceId: ws.workspaceId });
      expect(before.problem).toMatch(/cannot be decrypted with PIGEON_SECRET/);

      const kept = refusal(
        await configure(
          { id, channel: 'EMAIL', provider: 'sendgrid', config: { ...config, apiKey: MASK, fromName: 'S' } },
          ws.adminKey,
        ),
      );
      expect(kept).toContain('config.apiKey');
      expect(kept).toMatch(/cannot be decrypted with PIGEON_SECRET/);
      expect(kept).toMatch(/give it again/);

      const repaired = await configure(
        { id, channel: 'EMAIL', provider: 'sendgrid', config: { ...config, apiKey: 'SG.new' } },
        ws.adminKey,
      );
      expect(repaired.errors).toBeUndefined();
      const [after] = await t.services.providerConfigs.enabled({ workspaceId: ws.workspaceId });
      expect(after.problem).toBeUndefined();
      expect(after.settings).toMatchObject({ apiKey: 'SG.new', baseUrl: a.url });
    });

    it('a Teams webhook URL (a secret destination) given again repairs its configuration', async () => {
      const ws = await t.newWorkspace();
      const id = await configureProvider(
        t,
        { channel: 'MSTEAMS', provider: 'msteams', config: { webhookUrl: 'https://example.webhook.office.com/a' } },
        ws.adminKey,
      );
      await sealUnderOtherSecret(id);
      expect(
        refusal(
          await configure({ id, channel: 'MSTEAMS', provider: 'msteams', config: { webhookUrl: MASK } }, ws.adminKey),
        ),
      ).toContain('config.webhookUrl');
      const repaired = await configure(
        { id, channel: 'MSTEAMS', provider: 'msteams', config: { webhookUrl: 'https://example.webhook.office.com/b' } },
        ws.adminKey,
      );
      expect(repaired.errors).toBeUndefined();
    });
  });
});
