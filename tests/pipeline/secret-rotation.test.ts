import { createHmac, randomUUID } from 'node:crypto';
import pino from 'pino';
import { runCli } from '../../src/cli/pigeon';
import { SecretBox } from '../../src/domain/provider/secret-box';
import type { RequestContext } from '../../src/domain/request-context';
import { Worker } from '../../src/pipeline/worker';
import { createServices } from '../../src/services';
import { HttpFake } from '../helpers/fakes/http-fake';
import { configureProvider, createTemplate, historyOf, message, send } from '../helpers/pipeline';
import { isMysql, startTestApp, TEST_SERVICE_CONFIG, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * A changed PIGEON_SECRET (README, "Production configuration"): a configuration no key decrypts is skipped with
 * a history entry instead of stopping its workspace; PIGEON_SECRET_PREVIOUS keeps the old key readable during a
 * rotation and `pigeon secrets rotate` re-encrypts with the new one; one workspace's failure never holds up the
 * other workspaces' jobs of the same claimed batch.
 */
describe('PIGEON_SECRET changes and rotation', () => {
  const OLD = `old-${randomUUID()}`;
  const NEW = `new-${randomUUID()}`;
  let t: TestApp;
  let hook: HttpFake;
  let backup: HttpFake;

  beforeAll(async () => {
    t = await startTestApp({ secret: OLD });
    hook = await HttpFake.start({ status: 200, body: { id: 'hook' } });
    backup = await HttpFake.start({ status: 200, body: { id: 'backup' } });
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
    await backup.close();
  });
  beforeEach(() => {
    hook.requests.length = 0;
    backup.requests.length = 0;
  });

  const jobsOf = async (workspaceId: number) =>
    t.db.rows<{ run_at: unknown }>('SELECT run_at FROM jobs WHERE workspace_id = ?', [workspaceId]);

  async function storedConfig(id: string): Promise<Record<string, unknown>> {
    const raw = (await t.db.rows<{ config: unknown }>('SELECT config FROM provider_configs WHERE id = ?', [id]))[0]
      .config;
    return (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
  }

  /** Seals a configuration's secrets under a secret nobody has any more, as after a careless PIGEON_SECRET change. */
  async function sealUnderLostSecret(id: string): Promise<void> {
    const current = new SecretBox(OLD);
    const lost = new SecretBox(`lost-${uid()}`);
    const config = await storedConfig(id);
    const resealed = Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k, SecretBox.isSealed(v) ? lost.seal(current.open(v)) : v]),
    );
    await t.db.run('UPDATE provider_configs SET config = ? WHERE id = ?', [JSON.stringify(resealed), id]);
  }

  async function webhookTemplate(ws: TestWorkspace): Promise<string> {
    return createTemplate(
      t,
      { key: uid('hook'), name: 'Hook', channels: ['WEBHOOK'], content: { webhook: { body: { n: '{{data.n}}' } } } },
      true,
      ws.adminKey,
    );
  }

  let lostConfigId: string;

  it('a configuration no key decrypts is skipped (ATTEMPT SKIPPED, its reason) and the next provider sends', async () => {
    const ws = await t.newWorkspace();
    const first = await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', priority: 0, config: { url: `${hook.url}/a`, secret: 's1' } },
      ws.adminKey,
    );
    await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', priority: 5, config: { url: `${backup.url}/b`, secret: 's2' } },
      ws.adminKey,
    );
    await sealUnderLostSecret(first);
    lostConfigId = first;
    const templateId = await webhookTemplate(ws);

    const sent = await send(t, { userId: uid(), templateId, data: { n: 1 } }, ws.adminKey);
    await t.worker().drain(300);
    const m = await message(t, sent.id, ws.adminKey);
    expect(m).toMatchObject({ status: 'SENT', channel: 'WEBHOOK' });
    expect(hook.requests).toHaveLength(0);
    expect(backup.requests).toHaveLength(1);
    const skipped = historyOf(m, 'ATTEMPT').find((a) => a.outcome === 'SKIPPED');
    expect(skipped).toMatchObject({
      providerConfigId: first,
      error: expect.stringMatching(/cannot be decrypted with PIGEON_SECRET/),
    });
    expect(m.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ status: 'FAILED', lastError: expect.stringMatching(/cannot be decrypted/) }),
        expect.objectContaining({ status: 'SENT' }),
      ]),
    );
    expect(await jobsOf(ws.workspaceId)).toEqual([]);
  });

  it('when it is the only provider the message ends (no endless retry); fresh secrets repair the configuration', async () => {
    const ws = await t.newWorkspace();
    const id = await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/only`, secret: 's1' } },
      ws.adminKey,
    );
    await sealUnderLostSecret(id);
    const templateId = await webhookTemplate(ws);

    const sent = await send(t, { userId: uid(), templateId, data: { n: 1 } }, ws.adminKey);
    await t.worker().drain(300);
    const m = await message(t, sent.id, ws.adminKey);
    expect(m).toMatchObject({ status: 'UNDELIVERABLE', reason: 'ALL_CHANNELS_FAILED' });
    expect(historyOf(m, 'ATTEMPT')).toEqual([
      expect.objectContaining({
        outcome: 'SKIPPED',
        error: expect.stringMatching(/cannot be decrypted with PIGEON_SECRET/),
      }),
    ]);
    expect(await jobsOf(ws.workspaceId)).toEqual([]);
    expect(hook.requests).toHaveLength(0);

    await configureProvider(
      t,
      { id, channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/only`, secret: 'fresh' } },
      ws.adminKey,
    );
    const again = await send(t, { userId: uid(), templateId, data: { n: 2 } }, ws.adminKey);
    await t.worker().drain(300);
    expect(await message(t, again.id, ws.adminKey)).toMatchObject({ status: 'SENT' });
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0];
    expect(req.headers['x-pigeon-signature']).toBe(
      `sha256=${createHmac('sha256', 'fresh').update(req.rawBody).digest('hex')}`,
    );
  });

  it('rotation: PIGEON_SECRET_PREVIOUS still decrypts, `pigeon secrets rotate` re-encrypts with the new secret', async () => {
    const ws = await t.newWorkspace();
    const id = await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/rot`, secret: 'whsec-rot' } },
      ws.adminKey,
    );
    const templateId = await webhookTemplate(ws);
    const ctx: RequestContext = { workspaceId: ws.workspaceId };
    const silent = pino({ level: 'silent' });
    const during = createServices(t.db, { ...TEST_SERVICE_CONFIG, secret: NEW, secretPrevious: OLD }, silent);
    const after = createServices(t.db, { ...TEST_SERVICE_CONFIG, secret: NEW }, silent);
    expect((await after.providerConfigs.enabled(ctx))[0].problem).toMatch(/cannot be decrypted/);

    // during the change: the new process sends with what the old secret sealed
    const sent = await send(t, { userId: uid(), templateId, data: { n: 1 } }, ws.adminKey);
    const worker = new Worker(
      during.queue,
      during.pipeline,
      { concurrency: 8, leaseMs: 30_000, pollMs: 20, workspaceIds: [ws.workspaceId] },
      silent,
    );
    await worker.drain(300);
    expect(await message(t, sent.id, ws.adminKey)).toMatchObject({ status: 'SENT' });
    const req = hook.requests[0];
    expect(req.headers['x-pigeon-signature']).toBe(
      `sha256=${createHmac('sha256', 'whsec-rot').update(req.rawBody).digest('hex')}`,
    );

    // the CLI re-encrypts every readable configuration with the new secret and names those it cannot read
    const before = await storedConfig(id);
    const out: string[] = [];
    const err: string[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, {
      PIGEON_SECRET: NEW,
      PIGEON_SECRET_PREVIOUS: OLD,
      DATABASE_URL: isMysql() ? process.env.DATABASE_URL : `sqlite:${t.db.dataSource.options.database as string}`,
    });
    let code: number;
    try {
      code = await runCli(['secrets', 'rotate', '--json'], { out: (s) => out.push(s), err: (s) => err.push(s) });
    } finally {
      for (const k of ['PIGEON_SECRET', 'PIGEON_SECRET_PREVIOUS', 'DATABASE_URL']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    const report = JSON.parse(out.join(''));
    expect(report.resealed).toBeGreaterThanOrEqual(1);
    const unreadable = report.unreadable.map((u: { id: string }) => u.id);
    expect(unreadable).not.toContain(id);
    // the configuration sealed under a lost secret (first test) is named, with exit code 1
    expect(unreadable).toContain(lostConfigId);
    expect(code).toBe(1);
    expect(err.join('')).toContain(lostConfigId);

    const rotated = await storedConfig(id);
    expect(rotated.secret).toMatch(/^enc:v1:/);
    expect(rotated.secret).not.toBe(before.secret);
    expect((await after.providerConfigs.enabled(ctx))[0]).toMatchObject({ settings: { secret: 'whsec-rot' } });
    expect((await after.providerConfigs.enabled(ctx))[0].problem).toBeUndefined();
    expect((await t.services.providerConfigs.enabled(ctx))[0].problem).toMatch(/cannot be decrypted/);
    // a second run finds nothing left to do for it
    expect(await during.providerConfigs.resealAll()).toMatchObject({ resealed: 0 });
  });

  it("one workspace's failure does not reschedule other workspaces' jobs of the same claimed batch", async () => {
    const broken = await t.newWorkspace();
    const healthy = await t.newWorkspace();
    const templates = new Map<number, string>();
    for (const ws of [broken, healthy]) {
      await configureProvider(t, { channel: 'WEBHOOK', provider: 'log', config: { label: 'x' } }, ws.adminKey);
      templates.set(ws.workspaceId, await webhookTemplate(ws));
    }
    const original = t.services.providerConfigs.enabled.bind(t.services.providerConfigs);
    const spy = jest.spyOn(t.services.providerConfigs, 'enabled').mockImplementation(async (ctx) => {
      if (ctx.workspaceId === broken.workspaceId) throw new Error('database hiccup for one workspace');
      return original(ctx);
    });
    try {
      const a = await send(t, { userId: uid(), templateId: templates.get(broken.workspaceId) }, broken.adminKey);
      await new Promise((r) => setTimeout(r, 5));
      const b = await send(t, { userId: uid(), templateId: templates.get(healthy.workspaceId) }, healthy.adminKey);
      await t.worker().drain(300);
      expect(await message(t, b.id, healthy.adminKey)).toMatchObject({ status: 'SENT' });
      expect(await jobsOf(healthy.workspaceId)).toEqual([]);
      expect(await message(t, a.id, broken.adminKey)).toMatchObject({ status: 'ENQUEUED' });
      const [job] = await jobsOf(broken.workspaceId);
      const runAt = job.run_at instanceof Date ? job.run_at : new Date(`${String(job.run_at).replace(' ', 'T')}Z`);
      expect(runAt.getTime()).toBeGreaterThan(Date.now());
    } finally {
      spy.mockRestore();
    }
  });
});
