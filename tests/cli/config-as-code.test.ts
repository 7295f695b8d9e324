import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configServices } from '../../src/cli/config-command';
import { runCli } from '../../src/cli/pigeon';
import type { Database } from '../../src/db/database';
import { Channel } from '../../src/domain/channel/channel.enum';
import { importConfig, type ConfigServices } from '../../src/domain/config-transfer/config-transfer';
import { parseConfigFile } from '../../src/domain/config-transfer/config-file';
import { InvalidInputError } from '../../src/domain/domain-error';
import type { RequestContext } from '../../src/domain/request-context';
import { RoutingAction, RoutingMethod } from '../../src/domain/routing/routing.enums';
import { WorkspaceService } from '../../src/domain/workspace/workspace.service';
import { openDatabase } from '../../src/open-database';

/**
 * Configuration as code (README.md, "Configuration as code"): `pigeon config export` / `pigeon config import`,
 * driven through the CLI's own entry point (`runCli`, in this process) against the test database — a SQLite file
 * of its own, or DATABASE_URL (MySQL/MariaDB) — plus one real child process for the shell form.
 */
const ROOT = path.resolve(__dirname, '../..');
const isMysql = Boolean(process.env.DATABASE_URL && !process.env.DATABASE_URL.startsWith('sqlite:'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-config-'));
const url = isMysql ? process.env.DATABASE_URL! : `sqlite:${path.join(dir, 'pigeon.sqlite')}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let db: Database;
let services: ConfigServices;
const savedUrl = process.env.DATABASE_URL;

beforeAll(async () => {
  db = await openDatabase(url, { migrate: !isMysql });
  services = configServices(db);
  process.env.DATABASE_URL = url; // what runCli opens, like the real command
});

afterAll(async () => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await db.dataSource.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function pigeon(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

async function workspace(): Promise<{ name: string; ctx: RequestContext }> {
  const name = `cfg-${randomUUID().slice(0, 8)}`;
  const created = await new WorkspaceService(db).createWorkspace(name);
  return { name, ctx: { workspaceId: created.workspace.id } };
}

function writeFile(content: unknown): string {
  const file = path.join(dir, `${randomUUID()}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

async function exportOf(name: string): Promise<string> {
  const run = await pigeon('config', 'export', '--workspace', name);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return run.stdout;
}

/** Every row an import could write, for "nothing changed" checks (timestamps included). */
async function snapshot(ctx: RequestContext): Promise<Record<string, unknown[]>> {
  const ws = [ctx.workspaceId];
  const q = (sql: string) => db.rows(sql, ws);
  return {
    templates: await q('SELECT * FROM templates WHERE workspace_id = ? ORDER BY id'),
    templateVersions: await q(
      'SELECT v.template_id, v.version, v.published_at FROM template_versions v JOIN templates t ON t.id = v.template_id WHERE t.workspace_id = ? ORDER BY v.template_id, v.version',
    ),
    workflows: await q('SELECT * FROM workflows WHERE workspace_id = ? ORDER BY id'),
    workflowVersions: await q(
      'SELECT v.workflow_id, v.version, v.published_at FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id WHERE w.workspace_id = ? ORDER BY v.workflow_id, v.version',
    ),
    mappings: await q('SELECT * FROM event_mappings WHERE workspace_id = ? ORDER BY event_name'),
    cancels: await q('SELECT * FROM cancel_mappings WHERE workspace_id = ? ORDER BY event_name, workflow_id'),
    rules: await q('SELECT * FROM routing_rules WHERE workspace_id = ? ORDER BY id'),
  };
}

async function versionCounts(ctx: RequestContext): Promise<{ templates: number; workflows: number }> {
  const s = await snapshot(ctx);
  return { templates: s.templateVersions.length, workflows: s.workflowVersions.length };
}

/**
 * A workspace with one of everything: templates published (as the draft, and with a draft that moved on) and
 * draft-only, workflows likewise, mappings to a template and to a workflow, a cancel mapping, and rules
 * (workspace-wide, template-specific, SUPPRESS with a condition, disabled).
 */
async function seed(ctx: RequestContext): Promise<void> {
  const { templates, workflows, mappings, rules } = services;
  const welcome = await templates.create(ctx, {
    key: 'welcome',
    name: 'Welcome',
    channels: [Channel.EMAIL, Channel.SMS],
    content: {
      email: { subject: 'Welcome, {{profile.firstName}}', html: '<p>Hi {{profile.firstName}}</p>' },
      sms: { body: 'Welcome!' },
    },
  });
  await templates.publish(ctx, welcome.id);
  const cart = await templates.create(ctx, {
    key: 'cart-reminder',
    name: 'Cart reminder',
    channels: [Channel.SMS],
    content: { sms: { body: 'Your cart is waiting (v1)' } },
  });
  await templates.publish(ctx, cart.id);
  await templates.update(ctx, cart.id, { content: { sms: { body: 'Your cart is waiting (v2, draft)' } } });
  await templates.create(ctx, {
    key: 'weekly-digest',
    name: 'Weekly digest',
    channels: [Channel.EMAIL],
    content: { email: { subject: '{{digest.count}} updates', text: 'You have updates' } },
  });

  const abandoned = await workflows.create(ctx, {
    key: 'abandoned-cart',
    name: 'Abandoned cart',
    cancelKeyPath: 'data.cartId',
    window: { from: '08:00', until: '20:00', days: ['MO', 'TU', 'WE', 'TH', 'FR'] },
    steps: [
      { ref: 'wait', type: 'delay', duration: 'PT1H' },
      { ref: 'remind', type: 'send', template: 'cart-reminder', when: { path: 'data.total', op: 'GT', value: 10 } },
    ],
  });
  await workflows.publish(ctx, abandoned.id);
  await workflows.update(ctx, abandoned.id, {
    key: 'abandoned-cart',
    name: 'Abandoned cart (slower)',
    cancelKeyPath: 'data.cartId',
    steps: [
      { ref: 'wait', type: 'delay', duration: 'PT2H' },
      { ref: 'remind', type: 'send', template: 'cart-reminder' },
    ],
  });
  const digest = await workflows.create(ctx, {
    key: 'weekly',
    name: 'Weekly',
    topic: 'updates',
    steps: [
      { ref: 'collect', type: 'digest', window: 'P7D' },
      { ref: 'send', type: 'send', template: 'weekly-digest', channels: [Channel.EMAIL] },
    ],
  });

  await mappings.map(ctx, 'Segment-TrackEvent:Signed Up', { templateId: welcome.id });
  await mappings.map(ctx, 'Segment-TrackEvent:Cart Abandoned', { workflowId: abandoned.id });
  await mappings.map(ctx, 'Segment-TrackEvent:Post Liked', { workflowId: digest.id });
  await mappings.mapCancel(ctx, 'Segment-TrackEvent:Order Completed', abandoned.id, 'data.cartId');

  await rules.create(ctx, {
    name: 'email and sms',
    priority: 10,
    action: RoutingAction.ROUTE,
    method: RoutingMethod.ALL,
    channels: [Channel.EMAIL, Channel.SMS],
  });
  await rules.create(ctx, {
    name: 'no sms for opted out',
    templateId: cart.id,
    priority: 5,
    when: { all: [{ path: 'profile.smsOptOut', op: 'EQ', value: true }] },
    action: RoutingAction.SUPPRESS,
  });
  await rules.create(ctx, {
    name: 'paused',
    templateId: welcome.id,
    priority: 1,
    action: RoutingAction.ROUTE,
    channels: [Channel.SMS],
    enabled: false,
  });
}

describe('pigeon config export / import', () => {
  it('export → import into a fresh workspace reproduces everything, drafts and published versions', async () => {
    const staging = await workspace();
    await seed(staging.ctx);
    const exported = await exportOf(staging.name);

    // the format: versioned, sorted, 2-space indented, no ids
    const file = JSON.parse(exported);
    expect(exported).toBe(JSON.stringify(file, null, 2) + '\n');
    expect(Object.keys(file)).toEqual(['pigeon', 'templates', 'workflows', 'mappings', 'cancelMappings', 'rules']);
    expect(file.pigeon).toBe(1);
    expect(file.templates.map((t: any) => t.key)).toEqual(['cart-reminder', 'weekly-digest', 'welcome']);
    expect(file.templates.map((t: any) => t.published)).toEqual([
      { channels: ['SMS'], content: { sms: { body: 'Your cart is waiting (v1)' } } },
      false,
      true,
    ]);
    expect(file.workflows.map((w: any) => [w.key, w.name, typeof w.published])).toEqual([
      ['abandoned-cart', 'Abandoned cart (slower)', 'object'],
      ['weekly', 'Weekly', 'boolean'],
    ]);
    expect(file.workflows[0].published.steps[0]).toEqual({ ref: 'wait', type: 'delay', duration: 'PT1H' });
    expect(file.mappings).toEqual([
      { event: 'Segment-TrackEvent:Cart Abandoned', workflow: 'abandoned-cart' },
      { event: 'Segment-TrackEvent:Post Liked', workflow: 'weekly' },
      { event: 'Segment-TrackEvent:Signed Up', template: 'welcome' },
    ]);
    expect(file.cancelMappings).toEqual([
      { event: 'Segment-TrackEvent:Order Completed', workflow: 'abandoned-cart', keyPath: 'data.cartId' },
    ]);
    expect(file.rules.map((r: any) => [r.template, r.name])).toEqual([
      [null, 'email and sms'],
      ['cart-reminder', 'no sms for opted out'],
      ['welcome', 'paused'],
    ]);
    expect(exported).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    expect(exported).not.toMatch(/"(id|templateId|workflowId|workspaceId|createdAt|updatedAt)"/);

    const production = await workspace();
    const run = await pigeon('config', 'import', writeFile(exported), '--workspace', production.name);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      'create template cart-reminder (publish v1)',
      'create template weekly-digest',
      'create template welcome (publish v1)',
      'create workflow abandoned-cart (publish v1)',
      'create workflow weekly',
      'create mapping "Segment-TrackEvent:Cart Abandoned" (workflow abandoned-cart)',
      'create mapping "Segment-TrackEvent:Post Liked" (workflow weekly)',
      'create mapping "Segment-TrackEvent:Signed Up" (template welcome)',
      'create cancel-mapping "Segment-TrackEvent:Order Completed" (workflow abandoned-cart, keyPath data.cartId)',
      'create rule "email and sms" (workspace-wide)',
      'create rule "no sms for opted out" (template cart-reminder)',
      'create rule "paused" (template welcome)',
      `Imported 12 changes into workspace "${production.name}".`,
    ]);
    expect(await exportOf(production.name)).toBe(exported);

    // the published versions are the ones staging publishes, the drafts staging's drafts
    const cart = (await services.templates.get(production.ctx, { key: 'cart-reminder' }))!;
    expect(cart.draft).toEqual({ sms: { body: 'Your cart is waiting (v2, draft)' } });
    expect((await services.templates.published(production.ctx, cart.id))!.content).toEqual({
      sms: { body: 'Your cart is waiting (v1)' },
    });
    const abandoned = (await services.workflows.get(production.ctx, { key: 'abandoned-cart' }))!;
    expect(abandoned.published!.name).toBe('Abandoned cart');
    expect(abandoned.draft.name).toBe('Abandoned cart (slower)');
  });

  it('importing the same file twice: the second run reports 0 changes and writes nothing (no new versions)', async () => {
    const source = await workspace();
    await seed(source.ctx);
    const file = writeFile(await exportOf(source.name));
    const target = await workspace();
    expect((await pigeon('config', 'import', file, '--workspace', target.name)).code).toBe(0);
    const before = await snapshot(target.ctx);
    expect(await versionCounts(target.ctx)).toEqual({ templates: 2, workflows: 1 });

    const again = await pigeon('config', 'import', file, '--workspace', target.name);
    expect(again).toEqual({
      code: 0,
      stdout: `0 changes: workspace "${target.name}" already matches the file.\n`,
      stderr: '',
    });
    expect(await snapshot(target.ctx)).toEqual(before);
    expect(await versionCounts(target.ctx)).toEqual({ templates: 2, workflows: 1 });

    // and the source itself already matches its own export
    const self = await pigeon('config', 'import', file, '--workspace', source.name);
    expect(self.stdout).toBe(`0 changes: workspace "${source.name}" already matches the file.\n`);
  });

  it('--dry-run lists the changes and changes nothing; the real import then makes exactly those', async () => {
    const ws = await workspace();
    await seed(ws.ctx);
    const file = JSON.parse(await exportOf(ws.name));
    const welcome = file.templates.find((t: any) => t.key === 'welcome');
    welcome.content.sms.body = 'Welcome aboard!'; // published: true → a new version
    const cart = file.templates.find((t: any) => t.key === 'cart-reminder');
    cart.published = true; // publish the draft that moved on
    const weekly = file.workflows.find((w: any) => w.key === 'weekly');
    weekly.published = true;
    file.templates.push({
      key: 'new-one',
      name: 'New one',
      channels: ['SMS'],
      content: { sms: { body: 'new' } },
      published: { channels: ['SMS'], content: { sms: { body: 'new, as published' } } },
    });
    file.mappings.find((m: any) => m.event === 'Segment-TrackEvent:Signed Up').template = 'new-one';
    file.cancelMappings[0].keyPath = 'event.properties.cartId';
    file.rules.find((r: any) => r.name === 'paused').enabled = true;
    const path = writeFile(file);

    const before = await snapshot(ws.ctx);
    const exportedBefore = await exportOf(ws.name);
    const dry = await pigeon('config', 'import', path, '--workspace', ws.name, '--dry-run');
    const expected = [
      'update template cart-reminder (publish v2)',
      'update template welcome (draft, publish v2)',
      'create template new-one (publish v1)',
      'update workflow weekly (publish v1)',
      'update mapping "Segment-TrackEvent:Signed Up" (template new-one, was template welcome)',
      'update cancel-mapping "Segment-TrackEvent:Order Completed" (workflow abandoned-cart, keyPath event.properties.cartId, was data.cartId)',
      'update rule "paused" (template welcome)',
    ];
    expect(dry).toEqual({
      code: 0,
      stdout: [
        ...expected,
        `Dry run: 7 changes would be made to workspace "${ws.name}"; nothing was changed.`,
        '',
      ].join('\n'),
      stderr: '',
    });
    expect(await snapshot(ws.ctx)).toEqual(before);
    expect(await exportOf(ws.name)).toBe(exportedBefore);

    const real = await pigeon('config', 'import', path, '--workspace', ws.name);
    expect(real.code).toBe(0);
    expect(real.stdout.trim().split('\n')).toEqual([...expected, `Imported 7 changes into workspace "${ws.name}".`]);
    const after = JSON.parse(await exportOf(ws.name));
    file.templates.sort((a: any, b: any) => (a.key < b.key ? -1 : 1));
    expect(after).toEqual(file);
    const newOne = (await services.templates.get(ws.ctx, { key: 'new-one' }))!;
    expect(newOne.draft).toEqual({ sms: { body: 'new' } });
    expect((await services.templates.published(ws.ctx, newOne.id))!.content).toEqual({
      sms: { body: 'new, as published' },
    });
    expect(await versionCounts(ws.ctx)).toEqual({ templates: 5, workflows: 2 });
    expect((await pigeon('config', 'import', path, '--workspace', ws.name)).stdout).toMatch(/^0 changes/);
  });

  it('does not delete what the file leaves out, unless --prune (which never deletes templates or workflows)', async () => {
    const ws = await workspace();
    await seed(ws.ctx);
    const file = JSON.parse(await exportOf(ws.name));
    file.templates = file.templates.filter((t: any) => t.key !== 'weekly-digest');
    file.mappings = file.mappings.filter((m: any) => m.event !== 'Segment-TrackEvent:Post Liked');
    file.cancelMappings = [];
    file.rules = file.rules.filter((r: any) => r.name !== 'paused');
    delete file.workflows; // an absent section is left alone, even with --prune
    const path = writeFile(file);

    const plain = await pigeon('config', 'import', path, '--workspace', ws.name);
    expect(plain.stdout).toBe(`0 changes: workspace "${ws.name}" already matches the file.\n`);

    const pruned = await pigeon('config', 'import', path, '--workspace', ws.name, '--prune');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout.trim().split('\n')).toEqual([
      'delete mapping "Segment-TrackEvent:Post Liked"',
      'delete cancel-mapping "Segment-TrackEvent:Order Completed" (workflow abandoned-cart)',
      'delete rule "paused" (template welcome)',
      `Imported 3 changes into workspace "${ws.name}".`,
    ]);
    expect(pruned.stderr).toBe(
      'pigeon: warning: --prune keeps templates not in the file (templates are never deleted): weekly-digest\n',
    );
    const after = JSON.parse(await exportOf(ws.name));
    expect(after.templates.map((t: any) => t.key)).toContain('weekly-digest');
    expect(after.workflows.map((w: any) => w.key)).toEqual(['abandoned-cart', 'weekly']);
    expect(after.mappings).toEqual(file.mappings);
    expect(after.cancelMappings).toEqual([]);
    expect(after.rules).toEqual(file.rules);
  });

  it('a small hand-written file may reference templates that only the workspace has, and leaves out defaults', async () => {
    const ws = await workspace();
    await seed(ws.ctx);
    const path = writeFile({
      pigeon: 1,
      mappings: [{ event: 'Segment-TrackEvent:Trial Ending', template: 'weekly-digest' }],
      rules: [{ name: 'sms only', template: 'welcome', priority: 3, action: 'ROUTE', channels: ['SMS'] }],
    });
    const run = await pigeon('config', 'import', path, '--workspace', ws.name);
    expect(run.stdout.trim().split('\n')).toEqual([
      'create mapping "Segment-TrackEvent:Trial Ending" (template weekly-digest)',
      'create rule "sms only" (template welcome)',
      `Imported 2 changes into workspace "${ws.name}".`,
    ]);
    const rule = JSON.parse(await exportOf(ws.name)).rules.find((r: any) => r.name === 'sms only');
    expect(rule).toEqual({
      name: 'sms only',
      template: 'welcome',
      priority: 3,
      when: null,
      action: 'ROUTE',
      method: 'SINGLE',
      channels: ['SMS'],
      enabled: true,
    });
    expect((await pigeon('config', 'import', path, '--workspace', ws.name)).stdout).toMatch(/^0 changes/);
  });

  it('a file that has a published template as never published: a warning, no change (versions cannot be withdrawn)', async () => {
    const ws = await workspace();
    await seed(ws.ctx);
    const file = JSON.parse(await exportOf(ws.name));
    file.templates.find((t: any) => t.key === 'welcome').published = false;
    const run = await pigeon('config', 'import', writeFile(file), '--workspace', ws.name);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^0 changes/);
    expect(run.stderr).toContain('pigeon: warning: template welcome: the file has it unpublished');
  });

  describe('invalid files: exit code 1, a message naming the path in the file, nothing changed', () => {
    let ws: { name: string; ctx: RequestContext };
    let valid: any;
    let before: Record<string, unknown[]>;

    beforeAll(async () => {
      ws = await workspace();
      await seed(ws.ctx);
      valid = JSON.parse(await exportOf(ws.name));
      before = await snapshot(ws.ctx);
    });

    async function refused(content: unknown, ...extra: string[]): Promise<string> {
      const path = writeFile(content);
      for (const args of [[], ['--dry-run'], ['--prune']]) {
        const run = await pigeon('config', 'import', path, '--workspace', ws.name, ...args, ...extra);
        expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
        expect(run.stderr).toContain(`pigeon: ${path} `);
        expect(run.stderr).toContain('nothing was changed');
      }
      expect(await snapshot(ws.ctx)).toEqual(before);
      return (await pigeon('config', 'import', path, '--workspace', ws.name)).stderr;
    }

    const edit = (change: (file: any) => void) => {
      const copy = structuredClone(valid);
      change(copy);
      return copy;
    };

    it('not JSON', async () => {
      expect(await refused('{"pigeon": 1, "templates": [')).toMatch(/\(file\): not JSON: /);
      expect(await refused('')).toMatch(/\(file\): not JSON/);
    });

    it('an unknown field, a wrong format version, a wrong type or enum value, a missing field', async () => {
      const err = await refused(
        edit((f) => {
          f.colour = 'blue';
          f.pigeon = 2;
          f.templates[0].subject = 'x';
          f.templates[1].channels = ['FAX'];
          f.rules[0].priority = 'high';
          delete f.workflows[0].steps;
          f.mappings[0].event = 42;
        }),
      );
      expect(err).toContain('(file): unknown field "colour"');
      expect(err).toContain('pigeon: must be 1, got number 2');
      expect(err).toContain('templates[0]: unknown field "subject"');
      expect(err).toContain('templates[1].channels[0]: must be one of EMAIL, SMS');
      expect(err).toContain('rules[0].priority: must be integer, got "high"');
      expect(err).toContain('workflows[0]: missing field "steps"');
      expect(err).toContain('mappings[0].event: must be string, got number 42');
      expect(await refused([1, 2])).toContain('(file): must be object, got an array');
    });

    it('a mapping, cancel mapping or rule naming a key that is neither in the file nor in the workspace', async () => {
      const err = await refused(
        edit((f) => {
          f.mappings.push({ event: 'Segment-TrackEvent:Ghost', template: 'no-such-template' });
          f.mappings.push({ event: 'Segment-TrackEvent:Ghost 2', workflow: 'no-such-workflow' });
          f.cancelMappings.push({ event: 'Segment-TrackEvent:X', workflow: 'nope', keyPath: 'data.id' });
          f.rules.push({ name: 'r', template: 'nope', priority: 1, action: 'ROUTE' });
        }),
      );
      expect(err).toContain(
        'mappings[3].template: no template has the key "no-such-template", in the file or the workspace',
      );
      expect(err).toContain('mappings[4].workflow: no workflow has the key "no-such-workflow"');
      expect(err).toContain('cancelMappings[1].workflow: no workflow has the key "nope"');
      expect(err).toContain('rules[3] ("r").template: no template has the key "nope"');
      // in a fresh workspace, a reference to a template of the file itself is fine, one elsewhere is not
      const fresh = await workspace();
      const lone = writeFile({ pigeon: 1, mappings: [{ event: 'Segment-TrackEvent:Signed Up', template: 'welcome' }] });
      const run = await pigeon('config', 'import', lone, '--workspace', fresh.name);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('mappings[0].template: no template has the key "welcome"');
      expect(await snapshot(fresh.ctx)).toEqual(await snapshot({ workspaceId: -1 }));
    });

    it('an invalid workflow step, template content or condition, with the service validators’ own words', async () => {
      const err = await refused(
        edit((f) => {
          f.workflows[0].steps[0] = { ref: 'wait', type: 'delay', duration: 'soon' };
          f.workflows[1].published = { name: 'W', steps: [{ ref: 'x', type: 'teleport' }] };
          f.templates[2].content.email.html = '<p>{{#if profile.vip}}</p>';
          f.rules[1].when = { any: [] };
        }),
      );
      expect(err).toMatch(/workflows\[0\] \("abandoned-cart"\): step "wait"\.duration: .+/);
      expect(err).toContain('workflows[1] ("weekly").published: step "x".type: must be one of send, delay');
      expect(err).toMatch(/templates\[2\] \("welcome"\): email\.html: line 1, column \d+: .*never closed/);
      expect(err).toContain('rules[1] ("no sms for opted out").when: "any" must be a non-empty array');
    });

    it('duplicates, bad event names, a mapping with both or neither target, a non-empty topics list', async () => {
      const err = await refused(
        edit((f) => {
          f.templates.push({ ...f.templates[0] });
          f.rules.push({ ...f.rules[0] });
          f.mappings.push({ event: 'Signed Up', template: 'welcome' });
          f.mappings.push({ event: 'Segment-TrackEvent:Both', template: 'welcome', workflow: 'weekly' });
          f.mappings.push({ event: 'Segment-TrackEvent:Neither' });
          f.topics = [{ key: 'marketing' }];
        }),
      );
      expect(err).toContain('templates[3]: template key "cart-reminder" is also at templates[0]');
      expect(err).toContain('rules[3]: a rule named "email and sms" (workspace-wide) is also at rules[0]');
      expect(err).toContain(
        'mappings[3].event: "Signed Up" is not a full inbound name and would never match an event: did you mean "Segment-TrackEvent:Signed Up"?',
      );
      expect(err).toContain('mappings[4]: give exactly one of "template" (a template key) or "workflow"');
      expect(err).toContain('mappings[5]: give exactly one of');
      expect(err).toContain('topics: topics do not exist in this version of Pigeon');
    });

    it('a file that cannot be read, an unknown workspace, a missing argument', async () => {
      const missing = await pigeon('config', 'import', path.join(dir, 'nope.json'), '--workspace', ws.name);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/nope\.json cannot be read .*nothing was changed:\n {2}ENOENT/);
      const unknown = await pigeon('config', 'import', writeFile(valid), '--workspace', `nope-${randomUUID()}`);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^pigeon: Workspace "nope-[^"]+" not found\n$/);
      const noWorkspace = await pigeon('config', 'export', '--workspace', `nope-${randomUUID()}`);
      expect(noWorkspace).toMatchObject({ code: 1, stdout: '' });
      const noFile = await pigeon('config', 'import');
      expect(noFile.code).toBe(1);
      expect(noFile.stderr).toContain("pigeon: missing required argument 'file'");
      expect(await snapshot(ws.ctx)).toEqual(before);
    });
  });

  it('a failure while applying rolls the whole import back (one transaction)', async () => {
    const source = await workspace();
    await seed(source.ctx);
    const file = parseConfigFile(await exportOf(source.name));
    const target = await workspace();
    const empty = await snapshot(target.ctx);
    // the rules come last: by then templates, workflows and mappings have been written in the transaction
    const failing = (d: Database): ConfigServices => {
      const s = configServices(d);
      s.rules.create = async () => {
        throw new InvalidInputError('the rule store refused');
      };
      return s;
    };
    await expect(importConfig(db, failing, target.ctx, file)).rejects.toThrow(
      'create rule "email and sms" (workspace-wide): the rule store refused; nothing was imported (rolled back)',
    );
    expect(await snapshot(target.ctx)).toEqual(empty);
    // the same file then imports cleanly
    const ok = await importConfig(db, configServices, target.ctx, file);
    expect(ok.changes).toHaveLength(12);
    expect(await exportOf(target.name)).toBe(await exportOf(source.name));
  });

  it('export refuses rules it could not tell apart (same name and template)', async () => {
    const ws = await workspace();
    for (let i = 0; i < 2; i++) {
      await services.rules.create(ws.ctx, { name: 'twin', priority: i, action: RoutingAction.SUPPRESS });
    }
    const run = await pigeon('config', 'export', '--workspace', ws.name);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain('rule "twin" (workspace-wide)');
  });

  it('as a shell command: `pigeon config export > pigeon.json`, then `pigeon config import - < pigeon.json`', async () => {
    const ws = await workspace();
    await seed(ws.ctx);
    const out = path.join(dir, 'pigeon.json');
    const shell = (command: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          '/bin/sh',
          ['-c', command],
          { cwd: ROOT, env: { PATH: process.env.PATH, DATABASE_URL: url, LOG_LEVEL: 'silent' }, timeout: 60_000 },
          (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const cli = `"${process.execPath}" "${require.resolve('ts-node/dist/bin.js')}" --transpile-only src/cli/pigeon.ts`;
    const exported = await shell(`${cli} config export --workspace ${ws.name} > "${out}"`);
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    expect(fs.readFileSync(out, 'utf8')).toBe(await exportOf(ws.name));
    const imported = await shell(`${cli} config import - --workspace ${ws.name} --dry-run < "${out}"`);
    expect(imported).toEqual({
      code: 0,
      stdout: `Dry run: 0 changes would be made to workspace "${ws.name}"; nothing was changed.\n`,
      stderr: '',
    });
  });
});
