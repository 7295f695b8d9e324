import { ApiFake } from './api-fake';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake';

/** Path of the fake's Office 365 connector webhook (`IncomingWebhook`). */
export const CONNECTOR_PATH = '/webhookb2/0000-1111@2222-3333/IncomingWebhook/abcdef/4444-5555';
/** Path of the fake's Workflows (Power Automate) webhook. */
export const WORKFLOW_PATH = '/workflows/abcdef/triggers/manual/paths/invoke';

/**
 * A fake of Microsoft Teams incoming webhooks, answering as Teams does:
 * - {@link CONNECTOR_PATH}, an Office 365 connector: a JSON `MessageCard` with `text` or `summary`
 *   is answered `200` with the text `1`; a bad payload `400 "Summary or Text is required."`.
 * - {@link WORKFLOW_PATH}, a Workflows webhook: a `message` with an Adaptive Card attachment is
 *   answered `202` with an empty body; anything else `400`.
 * - Any other path: `404`. Teams' own failures arrive as `200` with an error text; force them with
 *   `fake.http.respondOnce({ status: 200, body: 'Webhook message delivery failed with error: … 429 …' })`.
 */
export class MsTeamsFake extends ApiFake {
  /** JSON bodies accepted, oldest first. */
  readonly accepted: unknown[] = [];

  private constructor(http: HttpFake) {
    super(http);
  }

  static async start(): Promise<MsTeamsFake> {
    return new MsTeamsFake(await HttpFake.start());
  }

  /** The connector webhook's URL. */
  get connectorUrl(): string {
    return this.http.url + CONNECTOR_PATH;
  }

  /** The Workflows webhook's URL. */
  get workflowUrl(): string {
    return this.http.url + WORKFLOW_PATH;
  }

  protected answer(req: RecordedRequest): FakeResponse {
    const text = (status: number, body: string): FakeResponse => ({
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body,
    });
    if (req.pathname !== CONNECTOR_PATH && req.pathname !== WORKFLOW_PATH) return text(404, 'Not found');
    if (req.method !== 'POST') return text(405, 'Method not allowed');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json') || req.json === undefined) {
      return text(400, 'Bad payload received by generic incoming webhook.');
    }
    const body = req.json as Record<string, unknown>;
    if (req.pathname === CONNECTOR_PATH) {
      const ok = body['@type'] === 'MessageCard' && (isText(body.text) || isText(body.summary));
      if (!ok) return text(400, 'Summary or Text is required.');
      this.accepted.push(body);
      return text(200, '1');
    }
    const attachments = body.attachments as { contentType?: string; content?: { type?: string } }[] | undefined;
    const card = Array.isArray(attachments) ? attachments[0] : undefined;
    if (
      body.type !== 'message' ||
      card?.contentType !== 'application/vnd.microsoft.card.adaptive' ||
      card.content?.type !== 'AdaptiveCard'
    ) {
      return text(400, 'Bad Request: the message must carry an Adaptive Card attachment');
    }
    this.accepted.push(body);
    return { status: 202 };
  }
}

function isText(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '';
}
