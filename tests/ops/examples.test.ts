import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { configureProvider, createTemplate, send } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

const ROOT = path.resolve(__dirname, '../..');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The automation examples in examples/, each run as its npm script in a child process against the
 * real server listening on a port, their effects checked through GraphQL.
 */
describe('examples for automation scripts', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await t.close();
  });

  /** `npm run --silent <script> -- ...args` with PIGEON_URL and PIGEON_ADMIN_KEY. */
  function example(script: string, args: string[], key = t.ws.adminKey, baseUrl = url): Promise<Ran> {
    return new Promise((resolve) => {
      execFile(
        'npm',
        ['run', '--silent', script, '--', ...args],
        { cwd: ROOT, env: { ...process.env, PIGEON_URL: baseUrl, PIGEON_ADMIN_KEY: key }, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }
  const jsonLines = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));

  it('map-unmapped maps every unmapped name matching the pattern, and only those', async () => {
    const ws = await t.newWorkspace();
    const templateId = await createTemplate(
      t,
      { key: 'order-completed', name: 'Order', channels: ['EMAIL'], content: { email: { subject: 'S', text: 'T' } } },
      true,
      ws.adminKey,
    );
    const other = await createTemplate(
      t,
      { key: 'other', name: 'Other', channels: ['EMAIL'], content: { email: { subject: 'S', text: 'T' } } },
      true,
      ws.adminKey,
    );
    for (const event of ['Order Completed', 'Order Shipped', 'Order Refunded', 'Cart Viewed', 'Reorder Suggested']) {
      expect((await t.send('/v1/track', { userId: uid(), event }, ws.ingestKey)).statusCode).toBe(200);
    }
    await t.gql(
      'mutation($t: ID!) { mapEvent(eventName: "Segment-TrackEvent:Order Refunded", templateId: $t) { eventName } }',
      { t: other },
      ws.adminKey,
    );

    const dry = await example(
      'example:map-unmapped',
      ['--pattern', 'Order *', '--template', 'order-completed', '--dry-run'],
      ws.adminKey,
    );
    expect(dry.code).toBe(0);
    expect(jsonLines(dry.stdout).map((l) => `${l.eventName} ${l.action}`)).toEqual([
      'Segment-TrackEvent:Order Completed would map',
      'Segment-TrackEvent:Order Refunded skipped',
      'Segment-TrackEvent:Order Shipped would map',
    ]);
    const mappings = async () =>
      (await t.gql<any>('{ mappings { eventName template { key } } }', {}, ws.adminKey)).data.mappings
        .map((m: any) => `${m.eventName} → ${m.template.key}`)
        .sort();
    expect(await mappings()).toEqual(['Segment-TrackEvent:Order Refunded → other']);

    const ran = await example(
      'example:map-unmapped',
      ['--pattern', 'Order *', '--template', 'order-completed'],
      ws.adminKey,
    );
    expect(ran.code).toBe(0);
    expect(ran.stderr).toContain('2 event name(s) mapped to "order-completed"');
    expect(await mappings()).toEqual([
      'Segment-TrackEvent:Order Completed → order-completed',
      'Segment-TrackEvent:Order Refunded → other',
      'Segment-TrackEvent:Order Shipped → order-completed',
    ]);
    // a second run changes nothing
    const again = await example(
      'example:map-unmapped',
      ['--pattern', 'Order *', '--template', 'order-completed'],
      ws.adminKey,
    );
    expect(jsonLines(again.stdout).every((l) => l.action === 'skipped')).toBe(true);
    expect(templateId).toBeDefined();

    // mistakes are reported with a non-zero exit
    const missing = await example('example:map-unmapped', ['--pattern', 'Order *', '--template', 'nope'], ws.adminKey);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No template with key "nope"');
    const usage = await example('example:map-unmapped', ['--template', 'order-completed'], ws.adminKey);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--pattern is required');
    const badKey = await example('example:map-unmapped', ['--pattern', '*', '--template', 'x'], 'not-a-key');
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('UNAUTHENTICATED');
  });

  it('import-profiles merges each CSV row into a profile through mergeProfile', async () => {
    const ws = await t.newWorkspace();
    const [a, b, c] = [uid(), uid(), uid()];
    await t.gql(
      'mutation($u: String!) { mergeProfile(userId: $u, traits: {plan: "free", keep: "me"}) { userId } }',
      { u: a },
      ws.adminKey,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-csv-'));
    const file = path.join(dir, 'users.csv');
    fs.writeFileSync(
      file,
      [
        '\ufeffuserId,email,plan,zip,vip,address.city,address.country,note',
        `${a},a@example.com,pro,02139,true,Boston,US,"Hello, ""world"""`,
        `${b},b@example.com,free,10001,false,New York,,`,
        `,nobody@example.com,free,,,,,`,
        `${c},c@example.com,enterprise,,12.5,,,`,
        '',
      ].join('\n'),
    );
    const ran = await example(
      'example:import-profiles',
      ['--file', file, '--infer-types', '--concurrency', '2'],
      ws.adminKey,
    );
    expect(ran.code).toBe(1); // one row had no userId
    expect(JSON.parse(ran.stdout.trim())).toEqual({ imported: 3, failed: 1 });
    expect(ran.stderr).toContain('line 4: no userId');

    const profile = async (userId: string) =>
      (await t.gql<any>('query($u: String!) { profile(userId: $u) { traits } }', { u: userId }, ws.adminKey)).data
        .profile.traits;
    expect(await profile(a)).toEqual({
      email: 'a@example.com',
      plan: 'pro',
      keep: 'me',
      zip: '02139',
      vip: true,
      address: { city: 'Boston', country: 'US' },
      note: 'Hello, "world"',
    });
    expect(await profile(b)).toEqual({
      email: 'b@example.com',
      plan: 'free',
      zip: 10001,
      vip: false,
      address: { city: 'New York' },
    });
    expect(await profile(c)).toEqual({ email: 'c@example.com', plan: 'enterprise', vip: 12.5 });

    // without --infer-types every value is a string
    const d = uid();
    fs.writeFileSync(file, `id;vip;n\n${d};true;7\n`);
    const plain = await example(
      'example:import-profiles',
      ['--file', file, '--user-id-column', 'id', '--delimiter', ';'],
      ws.adminKey,
    );
    expect(plain.code).toBe(0);
    expect(await profile(d)).toEqual({ vip: 'true', n: '7' });
  });

  it('export-undeliverable prints the last day of undeliverable messages with reasons, page by page', async () => {
    const ws = await t.newWorkspace();
    await configureProvider(
      t,
      { channel: 'EMAIL', provider: 'log', config: { simulateFailure: 'permanent' } },
      ws.adminKey,
    );
    const content = { email: { subject: 'S', text: 'T' } };
    const failing = await createTemplate(
      t,
      { key: 'failing', name: 'F', channels: ['EMAIL'], content },
      true,
      ws.adminKey,
    );
    const draft = await createTemplate(
      t,
      { key: 'draft', name: 'D', channels: ['EMAIL'], content },
      false,
      ws.adminKey,
    );
    const userId = uid();
    await t.send('/v1/identify', { userId, traits: { email: `${userId}@example.com` } }, ws.ingestKey);
    const ids = [
      (await send(t, { userId, templateId: failing }, ws.adminKey)).id,
      (await send(t, { userId, templateId: draft }, ws.adminKey)).id,
      (await send(t, { userId, templateId: draft, data: { x: 1 } }, ws.adminKey)).id,
    ];
    await t.worker().drain(300);

    const ran = await example('example:export-undeliverable', ['--page-size', '1'], ws.adminKey);
    expect(ran.code).toBe(0);
    const rows = jsonLines(ran.stdout);
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(ids[0])).toMatchObject({
      userId,
      template: 'failing',
      reason: 'ALL_CHANNELS_FAILED',
      errors: [{ channel: 'EMAIL', provider: 'log', attempts: 1, lastError: 'log: simulated permanent failure' }],
    });
    expect(byId.get(ids[1])).toMatchObject({ template: 'draft', reason: 'UNPUBLISHED', errors: [] });
    expect(ran.stderr).toContain('3 undeliverable message(s)');

    const csv = await example('example:export-undeliverable', ['--format', 'csv', '--hours', '1'], ws.adminKey);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('id,createdAt,userId,template,eventName,reason,errors');
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.startsWith(ids[0]))).toContain(
      'ALL_CHANNELS_FAILED,EMAIL/log: log: simulated permanent failure',
    );

    // nothing before --since
    const later = await example(
      'example:export-undeliverable',
      ['--since', new Date(Date.now() + 60_000).toISOString()],
      ws.adminKey,
    );
    expect(later.stdout).toBe('');
    expect(later.stderr).toContain('0 undeliverable message(s)');
  });

  it('ordinary mistakes are one line `<script>: …` on stderr and exit 1, never a stack trace (issue 14)', async () => {
    const ws = await t.newWorkspace();
    // a port nothing listens on
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-csv-'));
    const noUserId = path.join(dir, 'no-user-id.csv');
    fs.writeFileSync(noUserId, 'email,plan\na@example.com,pro\n');
    const cases: [string, string[], string, RegExp][] = [
      [
        'example:map-unmapped',
        ['--pattern', 'Order *', '--template', 'nope'],
        url,
        /^map-unmapped: No template with key "nope"\n$/,
      ],
      [
        'example:map-unmapped',
        ['--pattern', 'Order *', '--template', 'x'],
        `http://127.0.0.1:${closed}`,
        new RegExp(
          `^map-unmapped: cannot reach Pigeon at http://127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\): is the server running\\? PIGEON_URL sets its address\n$`,
        ),
      ],
      [
        'example:export-undeliverable',
        [],
        `http://127.0.0.1:${closed}`,
        /^export-undeliverable: cannot reach Pigeon at .*\n$/,
      ],
      [
        'example:import-profiles',
        ['--file', noUserId],
        url,
        /^import-profiles: The CSV has no "userId" column \(see --user-id-column\)\n$/,
      ],
    ];
    for (const [script, args, baseUrl, stderr] of cases) {
      const ran = await example(script, args, ws.adminKey, baseUrl);
      expect({ script, args, code: ran.code, stderr: ran.stderr }).toEqual({
        script,
        args,
        code: 1,
        stderr: expect.stringMatching(stderr),
      });
      expect(ran.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
