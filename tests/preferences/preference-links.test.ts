import { createHmac } from 'node:crypto';
import { LINK_TTL_MS, PreferenceLinks } from '../../src/domain/preference/preference-links';
import { TEST_SERVICE_CONFIG, startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * Signed unsubscribe and preference links: what a token names, its expiry, and secret rotation
 * (PIGEON_SECRET_PREVIOUS keeps links already sent working).
 */
describe('preference links', () => {
  const URL = 'https://pigeon.example.com';
  const subject = { workspaceId: 7, userId: 'ada', topic: 'news' };
  const tokenOf = (links: PreferenceLinks, kind: 'unsubscribeUrl' | 'preferencesUrl' = 'unsubscribeUrl') =>
    links.forRecipient(subject)![kind].split('/').pop()!;

  it('a token names its workspace, user and topic, for its kind only', () => {
    const links = new PreferenceLinks(URL, 's1');
    expect(links.verify(tokenOf(links), 'u')).toEqual(subject);
    expect(links.verify(tokenOf(links), 'p')).toBeNull();
    expect(links.verify(tokenOf(links, 'preferencesUrl'), 'p')).toEqual({ ...subject, topic: null });
  });

  it('expires after the link lifetime (180 days), not before', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const links = new PreferenceLinks(URL, 's1', { now: () => now });
    const token = tokenOf(links);
    expect(LINK_TTL_MS).toBe(180 * 86_400_000);
    now = new Date(Date.parse('2026-01-01T00:00:00Z') + LINK_TTL_MS - 1000);
    expect(links.verify(token, 'u')).toEqual(subject);
    now = new Date(Date.parse('2026-01-01T00:00:00Z') + LINK_TTL_MS);
    expect(links.verify(token, 'u')).toBeNull();
  });

  it('a token signed with a previous secret is accepted; one of an unknown secret is not', () => {
    const before = new PreferenceLinks(URL, 'old-secret');
    const rotated = new PreferenceLinks(URL, 'new-secret', { previousSecrets: ['old-secret'] });
    const notRotated = new PreferenceLinks(URL, 'new-secret');
    expect(rotated.verify(tokenOf(before), 'u')).toEqual(subject);
    expect(notRotated.verify(tokenOf(before), 'u')).toBeNull();
    expect(new PreferenceLinks(URL, 'other').verify(tokenOf(rotated), 'u')).toBeNull();
    // new links are signed with the current secret only
    expect(before.verify(tokenOf(rotated), 'u')).toBeNull();
  });

  it('a token without an expiry, or with one that is not a number, is refused even when signed', () => {
    const links = new PreferenceLinks(URL, 's1');
    // the token format, signed with the key links derive from the secret: only the payload's shape is wrong
    const key = createHmac('sha256', 's1').update('pigeon preference links v1').digest();
    const forge = (payload: unknown[]) => {
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
    };
    const future = Math.floor(Date.now() / 1000) + 3600;
    expect(links.verify(forge([7, 'ada', 'news', 'u', future]), 'u')).toEqual(subject);
    expect(links.verify(forge([7, 'ada', 'news', 'u']), 'u')).toBeNull();
    expect(links.verify(forge([7, 'ada', 'news', 'u', String(future)]), 'u')).toBeNull();
    expect(links.verify(forge(['7', 'ada', 'news', 'u', future]), 'u')).toBeNull();
  });

  describe('on the app', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ publicUrl: URL });
    });
    afterAll(() => t.close());

    it('an expired unsubscribe link is 404 on GET and POST and changes nothing', async () => {
      const ws = await t.newWorkspace();
      const userId = uid('u');
      const made = new Date(Date.now() - LINK_TTL_MS - 60_000);
      const old = new PreferenceLinks(URL, TEST_SERVICE_CONFIG.secret, { now: () => made });
      const url = old.forRecipient({ workspaceId: ws.workspaceId, userId, topic: null })!.unsubscribeUrl;
      const fresh = t.services.links.forRecipient({ workspaceId: ws.workspaceId, userId, topic: null })!.unsubscribeUrl;
      for (const method of ['GET', 'POST'] as const) {
        const res = await t.inject({ method, url: url.slice(URL.length), payload: 'List-Unsubscribe=One-Click' });
        expect({ method, status: res.statusCode }).toEqual({ method, status: 404 });
      }
      expect(await t.db.rows('SELECT id FROM preferences WHERE user_id = ?', [userId])).toEqual([]);
      expect((await t.inject({ method: 'GET', url: fresh.slice(URL.length) })).statusCode).toBe(200);
    });
  });
});
