import { randomUUID } from 'node:crypto';
import { toDbTime } from '../../src/db/dialect';
import type { Delivery } from '../../src/domain/message/delivery.entity';
import type { CallbackOutcome } from '../../src/domain/provider/provider-callback';
import { SendGridFake } from '../helpers/fakes/sendgrid-fake';
import { TwilioFake } from '../helpers/fakes/twilio-fake';
import { configureProvider, createRule, createTemplate, identify, send } from '../helpers/pipeline';
import { uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/** The message fields the callback tests read, with the delivery times callbacks set. */
export const TRACKED_FIELDS = `id status reason channel
  deliveries { channel provider status externalId lastError sentAt deliveredAt openedAt clickedAt }
  history { at type detail }`;

/** One stored provider callback, as the intake would store it (only what the test cares about is required). */
export interface StoredCallbackInput {
  configId: string;
  provider: string;
  channel: string;
  externalId: string | null;
  outcome: CallbackOutcome;
  at?: Date;
  reason?: string | null;
  errorCode?: string | null;
  eventId?: string;
  receivedAt?: Date;
}

/** Writes a row of `provider_callbacks` directly (the intake's HTTP route is tested on its own); its event id. */
export async function storeCallback(t: TestApp, ws: TestWorkspace, input: StoredCallbackInput): Promise<string> {
  const eventId = input.eventId ?? `ev-${randomUUID()}`;
  const at = input.at ?? new Date();
  await t.db.run(
    `INSERT INTO provider_callbacks (workspace_id, provider_config_id, provider, channel, event_id, external_id, outcome,
       happened_at, reason, error_code, raw, received_at, applied_at, result)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
    [
      ws.workspaceId,
      input.configId,
      input.provider,
      input.channel,
      eventId,
      input.externalId,
      input.outcome,
      toDbTime(at),
      input.reason ?? null,
      input.errorCode ?? null,
      JSON.stringify({ test: true, outcome: input.outcome }),
      toDbTime(input.receivedAt ?? new Date()),
    ],
  );
  return eventId;
}

/** What became of stored callbacks, by event id. */
export async function callbackResults(
  t: TestApp,
  eventIds: string[],
): Promise<Record<string, { result: string | null; applied: boolean }>> {
  const rows = await t.db.rows<{ event_id: string; result: string | null; applied_at: unknown }>(
    `SELECT event_id, result, applied_at FROM provider_callbacks WHERE event_id IN (${eventIds.map(() => '?').join(', ')})`,
    eventIds,
  );
  return Object.fromEntries(rows.map((r) => [r.event_id, { result: r.result, applied: r.applied_at !== null }]));
}

export async function tracked(t: TestApp, id: string, key: string): Promise<any> {
  const res = await t.gql(`query($id: ID!) { message(id: $id) { ${TRACKED_FIELDS} } }`, { id }, key);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.message;
}

export async function suppressionOf(
  t: TestApp,
  ws: TestWorkspace,
  channel: string,
  address: string,
): Promise<{ reason: string; expires_at: unknown } | undefined> {
  const [row] = await t.db.rows<{ reason: string; expires_at: unknown }>(
    'SELECT reason, expires_at FROM suppressions WHERE workspace_id = ? AND channel = ? AND address = ?',
    [ws.workspaceId, channel, address],
  );
  return row;
}

/** The providers' fakes: SendGrid for EMAIL, Twilio for SMS. */
export interface Fakes {
  sendgrid: SendGridFake;
  twilio: TwilioFake;
}

export async function startFakes(): Promise<Fakes> {
  return { sendgrid: await SendGridFake.start(), twilio: await TwilioFake.start() };
}

export interface CallbackWorkspace {
  ws: TestWorkspace;
  templateId: string;
  sendgridId: string;
  twilioId: string;
}

/** A fresh workspace with SendGrid (EMAIL) and Twilio (SMS), and a published EMAIL → SMS template; `all`: ALL routing. */
export async function callbackWorkspace(t: TestApp, fakes: Fakes, all = false): Promise<CallbackWorkspace> {
  const ws = await t.newWorkspace();
  const sendgridId = await configureProvider(
    t,
    {
      channel: 'EMAIL',
      provider: 'sendgrid',
      config: { apiKey: 'SG.test-key', fromEmail: 'shop@example.com', baseUrl: fakes.sendgrid.url },
    },
    ws.adminKey,
  );
  const twilioId = await configureProvider(
    t,
    {
      channel: 'SMS',
      provider: 'twilio',
      config: {
        accountSid: fakes.twilio.accountSid,
        authToken: fakes.twilio.authToken,
        from: '+14155550100',
        baseUrl: fakes.twilio.url,
      },
    },
    ws.adminKey,
  );
  const templateId = await createTemplate(
    t,
    {
      key: `receipt-${uid()}`,
      name: 'Receipt',
      channels: ['EMAIL', 'SMS'],
      content: {
        email: { subject: 'Receipt {{data.n}}', html: '<p>Receipt {{data.n}}</p>', text: 'Receipt {{data.n}}' },
        sms: { body: 'Receipt {{data.n}}' },
      },
    },
    true,
    ws.adminKey,
  );
  if (all) {
    await createRule(
      t,
      { name: 'everywhere', templateId, priority: 0, action: 'ROUTE', method: 'ALL', channels: ['EMAIL', 'SMS'] },
      ws.adminKey,
    );
  }
  return { ws, templateId, sendgridId, twilioId };
}

/** A user with the given traits (an e-mail and a phone number by default). */
export async function user(t: TestApp, ws: TestWorkspace, traits?: Record<string, unknown>): Promise<string> {
  const userId = uid();
  await identify(t, userId, traits ?? { email: `${userId}@Example.com`, phone_number: '+15555550123' }, ws.ingestKey);
  return userId;
}

/** Sends a message and runs the worker until it is sent; the message and its deliveries (with their ids). */
export async function sendAndDrain(
  t: TestApp,
  cw: CallbackWorkspace,
  userId: string,
  n = 1,
): Promise<{ id: string; deliveries: Delivery[] }> {
  const created = await send(t, { userId, templateId: cw.templateId, data: { n } }, cw.ws.adminKey);
  await t.worker().drain(150);
  const deliveries = (await t.services.messages.deliveriesOf([created.id])).get(created.id) ?? [];
  return { id: created.id, deliveries };
}

export const historyOf = (m: any, type: string): any[] =>
  m.history.filter((h: any) => h.type === type).map((h: any) => h.detail);
export const historyTypes = (m: any): string[] => m.history.map((h: any) => h.type);

/** The `pigeon_callbacks_applied_total` value of one (provider, result). */
export async function appliedCount(t: TestApp, provider: string, result: string): Promise<number> {
  const metric = await t.services.metrics.callbacksApplied.get();
  return metric.values.find((v) => v.labels.provider === provider && v.labels.result === result)?.value ?? 0;
}
