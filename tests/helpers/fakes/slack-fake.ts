import { ApiFake } from './api-fake';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake';

/** What the Slack fake knows: tokens, channels and users of one workspace. */
export interface SlackWorkspace {
  /** Tokens that authenticate (bot or user tokens). */
  tokens: string[];
  /** Channel ids and `#names` that exist. */
  channels: string[];
  /** Users by e-mail; their ids are valid `channel`s too (a DM). */
  users: Record<string, string>;
}

/**
 * A fake of Slack's Web API with the two methods Pigeon calls, answering the way Slack documents:
 * HTTP 200 with `{ ok: true, … }` or `{ ok: false, error }`.
 * - `POST /api/chat.postMessage`: `Authorization: Bearer <token>` (else `not_authed` /
 *   `invalid_auth`), a JSON body (`application/json`) with `channel` (an existing channel or user
 *   id, else `channel_not_found`) and `text` (else `no_text`); answers `channel` and `ts`.
 * - `GET /api/users.lookupByEmail?email=`: Bearer token; answers `user.id` or `users_not_found`.
 * Other methods: `unknown_method`. Force other answers with `fake.http.respondOnce(...)`.
 */
export class SlackFake extends ApiFake {
  /** JSON bodies of the messages posted, oldest first. */
  readonly posted: { channel: string; text: string }[] = [];
  private counter = 0;

  private constructor(
    http: HttpFake,
    readonly workspace: SlackWorkspace,
  ) {
    super(http);
  }

  static async start(workspace: Partial<SlackWorkspace> = {}): Promise<SlackFake> {
    return new SlackFake(await HttpFake.start(), {
      tokens: ['xoxb-bot-token'],
      channels: ['C0000000001', '#general'],
      users: { 'ada@example.com': 'U0000000ADA' },
      ...workspace,
    });
  }

  protected answer(req: RecordedRequest): FakeResponse {
    const method = /^\/api\/([\w.]+)$/.exec(req.pathname)?.[1];
    if (method !== 'chat.postMessage' && method !== 'users.lookupByEmail') return slackError('unknown_method');
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!auth) return slackError('not_authed');
    if (!this.workspace.tokens.includes(auth)) return slackError('invalid_auth');

    if (method === 'users.lookupByEmail') {
      if (req.method !== 'GET') return slackError('invalid_arguments');
      const id = this.workspace.users[req.query.get('email') ?? ''];
      return id ? slackOk({ user: { id, team_id: 'T0000000001' } }) : slackError('users_not_found');
    }

    if (req.method !== 'POST') return slackError('invalid_arguments');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return slackError('invalid_form_data');
    const body = req.json as { channel?: unknown; text?: unknown } | undefined;
    const channel = typeof body?.channel === 'string' ? body.channel : '';
    const known = this.workspace.channels.includes(channel) || Object.values(this.workspace.users).includes(channel);
    if (!known) return slackError('channel_not_found');
    if (typeof body?.text !== 'string' || body.text === '') return slackError('no_text');
    this.posted.push({ channel, text: body.text });
    this.counter += 1;
    const ts = `1700000000.${String(this.counter).padStart(6, '0')}`;
    return slackOk({ channel, ts, message: { type: 'message', text: body.text, ts } });
  }
}

/** Slack's failure shape: HTTP 200 `{ ok: false, error }`. */
export function slackError(error: string, headers?: Record<string, string>): FakeResponse {
  return { status: 200, headers, body: { ok: false, error } };
}

function slackOk(body: Record<string, unknown>): FakeResponse {
  return { status: 200, body: { ok: true, ...body } };
}
