import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PreferenceState, TopicState } from '../domain/preference/preference.enums';
import type { Preference } from '../domain/preference/preference.entity';
import type { LinkSubject } from '../domain/preference/preference-links';
import type { Topic } from '../domain/preference/topic.entity';
import type { Services } from '../services';

/** No script at all; styles only with this response's nonce; forms post back to this origin only. */
function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0 auto; padding: 24px 16px; max-width: 34rem; }
h1 { font-size: 1.4rem; } label { display: flex; gap: .6rem; align-items: flex-start; padding: .5rem 0; }
input[type=checkbox] { width: 1.3rem; height: 1.3rem; margin-top: .15rem; }
button { font-size: 1rem; padding: .6rem 1.2rem; margin-top: 1rem; } .muted { opacity: .7; font-size: .9rem; }
`;

const esc = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c as '&']);

function page(reply: FastifyReply, status: number, title: string, body: string) {
  const nonce = randomBytes(18).toString('base64');
  return reply
    .code(status)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': pageCsp(nonce),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">` +
        `<title>${esc(title)}</title><style nonce="${nonce}">${STYLE}</style></head>` +
        `<body><h1>${esc(title)}</h1>${body}</body></html>`,
    );
}

const notFound = (reply: FastifyReply) =>
  page(reply, 404, 'Link not valid', '<p>This link is not valid. Use the link from your latest message.</p>');

/** Whether a topic is received on every channel, as the preferences page shows it (the (topic, all) level down). */
function receives(topic: Topic, rows: Preference[], traits: Record<string, unknown>): boolean {
  if (topic.defaultState === TopicState.REQUIRED) return true;
  const own = rows.find((r) => r.topic === topic.key && r.channel === null);
  if (own) return own.state === PreferenceState.OPTED_IN;
  const all = rows.find((r) => r.topic === null && r.channel === null);
  if (traits.unsubscribed === true || all?.state === PreferenceState.OPTED_OUT) return false;
  if (all) return true;
  return topic.defaultState === TopicState.ON;
}

/**
 * The pages behind the signed links of README, "Preferences and topics": `/unsubscribe/<token>` (GET shows a
 * confirm button and changes nothing, since mail scanners follow links; POST — the button, or a mail client's
 * RFC 8058 one-click request — opts the user out of the link's topic on every channel, idempotently) and
 * `/preferences/<token>` (the user's topics with their state; POST saves). Server-rendered, no script, no
 * cookie or login: the token is the authority. A token that is not valid gets 404 and changes nothing.
 */
export function registerPreferencePages(app: FastifyInstance, services: Services): void {
  void app.register(async (scope) => {
    // the token is the rest of the path (a wildcard: fastify caps named parameters at 100 characters);
    // form posts (and RFC 8058's `List-Unsubscribe=One-Click`) under any content type, as text
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    const subject = (token: string, kind: 'u' | 'p'): LinkSubject | null => services.links.verify(token, kind);
    const topicName = async (s: LinkSubject) =>
      s.topic === null
        ? 'all messages'
        : `“${(await services.topics.get({ workspaceId: s.workspaceId }, s.topic))?.name ?? s.topic}”`;
    const preferencesLink = (s: LinkSubject) => {
      const url = services.links.forRecipient(s)?.preferencesUrl;
      return url ? `<p class="muted"><a href="${esc(url)}">Manage all your preferences</a></p>` : '';
    };

    scope.get<{ Params: { '*': string } }>('/unsubscribe/*', async (request, reply) => {
      const s = subject(request.params['*'], 'u');
      if (!s) return notFound(reply);
      return page(
        reply,
        200,
        'Unsubscribe',
        `<p>Stop receiving ${esc(await topicName(s))}, on every channel?</p>` +
          `<form method="post"><button type="submit">Unsubscribe</button></form>${preferencesLink(s)}`,
      );
    });

    scope.post<{ Params: { '*': string } }>('/unsubscribe/*', async (request, reply) => {
      const s = subject(request.params['*'], 'u');
      if (!s) return notFound(reply);
      await services.preferences.set(
        { workspaceId: s.workspaceId },
        s.userId,
        s.topic,
        null,
        PreferenceState.OPTED_OUT,
        {
          checkTopic: false,
        },
      );
      return page(
        reply,
        200,
        'Unsubscribed',
        `<p>You will no longer receive ${esc(await topicName(s))}.</p>${preferencesLink(s)}`,
      );
    });

    const preferencesPage = async (reply: FastifyReply, s: LinkSubject, saved: boolean) => {
      const ctx = { workspaceId: s.workspaceId };
      const [topics, rows, profile] = await Promise.all([
        services.topics.list(ctx),
        services.preferences.byUsers(ctx, [s.userId]),
        services.profiles.get(ctx, s.userId),
      ]);
      const mine = rows.get(s.userId) ?? [];
      const traits = profile?.traits ?? {};
      const items = topics
        .map((t) => {
          const required = t.defaultState === TopicState.REQUIRED;
          const checked = receives(t, mine, traits) ? ' checked' : '';
          return (
            `<label><input type="checkbox" name="topic" value="${esc(t.key)}"${checked}${required ? ' disabled' : ''}>` +
            `<span>${esc(t.name)}${required ? ' <span class="muted">(always sent)</span>' : ''}</span></label>`
          );
        })
        .join('');
      return page(
        reply,
        200,
        'Your notification preferences',
        (saved ? '<p><strong>Saved.</strong></p>' : '') +
          (topics.length
            ? `<form method="post">${items}<button type="submit">Save</button></form>`
            : '<p>There is nothing to choose here.</p>'),
      );
    };

    scope.get<{ Params: { '*': string } }>('/preferences/*', async (request, reply) => {
      const s = subject(request.params['*'], 'p');
      return s ? preferencesPage(reply, s, false) : notFound(reply);
    });

    scope.post<{ Params: { '*': string }; Body: unknown }>('/preferences/*', async (request, reply) => {
      const s = subject(request.params['*'], 'p');
      if (!s) return notFound(reply);
      const form = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
      const wanted = new Set(form.getAll('topic'));
      const ctx = { workspaceId: s.workspaceId };
      for (const t of await services.topics.list(ctx)) {
        if (t.defaultState === TopicState.REQUIRED) continue;
        const state = wanted.has(t.key) ? PreferenceState.OPTED_IN : PreferenceState.OPTED_OUT;
        await services.preferences.set(ctx, s.userId, t.key, null, state, { checkTopic: false });
      }
      return preferencesPage(reply, s, true);
    });
  });
}
