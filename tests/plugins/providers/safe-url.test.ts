import fc from 'fast-check';
import { BlockList, isIPv4 } from 'node:net';
import {
  checkUntrustedUrl,
  hostMatches,
  isOnOrigin,
  isPublicAddress,
  parseIPv6,
  publicOnlyLookup,
  resolvePublicAddresses,
  UNSAFE_ADDRESS_CODE,
} from '../../../src/plugins/providers/safe-url';

const HOSTS = ['*.webhook.office.com', 'outlook.office.com', '*.logic.azure.com'];

/** An independent statement of the allowed hosts, for the properties below. */
const onList = (host: string) =>
  host === 'outlook.office.com' ||
  (host.endsWith('.webhook.office.com') && host !== '.webhook.office.com') ||
  (host.endsWith('.logic.azure.com') && host !== '.logic.azure.com');

/**
 * The reference: Node's own BlockList with the special-purpose ranges (IANA registries), written
 * out here again, independently of the module's table and its bit arithmetic.
 */
const reference = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.31.196.0', 24],
  ['192.52.193.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['192.175.48.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3], // 224/4 multicast and 240/4 reserved together
] as const) {
  reference.addSubnet(net, bits, 'ipv4');
}
const referenceV6Public = new BlockList();
referenceV6Public.addSubnet('2000::', 3, 'ipv6');
const referenceV6Special = new BlockList();
for (const [net, bits] of [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['3fff::', 20],
] as const) {
  referenceV6Special.addSubnet(net, bits, 'ipv6');
}

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const hex16 = (n: number) => n.toString(16);

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '0:0:0:0:0:ffff:10.0.0.1',
    '64:ff9b::10.0.0.1',
    '::127.0.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '2001:db8::1',
    '2002:7f00:1::1',
    '2001::1',
    'not an address',
    '',
    '0x7f.0.0.1',
    '2130706433',
    '127.1',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['52.96.0.1', '8.8.8.8', '1.1.1.1', '172.32.0.1', '2603:1036::1', '::ffff:52.96.0.1', '64:ff9b::808:808'])(
    'accepts %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it('property: IPv4 agrees with the reference ranges', () => {
    fc.assert(
      fc.property(v4, (address) => isPublicAddress(address) === !reference.check(address, 'ipv4')),
      { numRuns: 20_000 },
    );
  });

  it('property: every address inside a private, loopback or link-local range is refused', () => {
    const inRange = fc
      .constantFrom<[number[], number]>(
        [[10, 0, 0, 0], 8],
        [[127, 0, 0, 0], 8],
        [[169, 254, 0, 0], 16],
        [[172, 16, 0, 0], 12],
        [[192, 168, 0, 0], 16],
        [[100, 64, 0, 0], 10],
        [[0, 0, 0, 0], 8],
      )
      .chain(([base, bits]) =>
        fc.nat(2 ** (32 - bits) - 1).map((host) => {
          const n = ((base[0] << 24) | (base[1] << 16) | (base[2] << 8) | base[3]) >>> 0;
          const value = (n + host) >>> 0;
          return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
        }),
      );
    fc.assert(
      fc.property(inRange, (address) => !isPublicAddress(address) && !isPublicAddress(`::ffff:${address}`)),
      { numRuns: 5000 },
    );
  });

  it('property: IPv4-mapped and NAT64 IPv6 forms (dotted or hex) are judged by the IPv4 address inside', () => {
    fc.assert(
      fc.property(v4, (address) => {
        const [a, b, c, d] = address.split('.').map(Number);
        const hi = hex16((a << 8) | b);
        const lo = hex16((c << 8) | d);
        const expected = isPublicAddress(address);
        const forms = [
          `::ffff:${address}`,
          `::ffff:${hi}:${lo}`,
          `0:0:0:0:0:FFFF:${hi}:${lo}`,
          `0000:0000:0000:0000:0000:ffff:${address}`,
          `64:ff9b::${address}`,
          `64:ff9b::${hi}:${lo}`,
        ];
        // the deprecated IPv4-compatible form and 6to4 are never public
        return (
          forms.every((form) => isPublicAddress(form) === expected) &&
          !isPublicAddress(`::${address}`) &&
          !isPublicAddress(`2002:${hi}:${lo}::1`)
        );
      }),
      { numRuns: 5000 },
    );
  });

  it('property: IPv6 agrees with the reference (public only inside 2000::/3, minus the special ranges)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const value = parseIPv6(address)!;
        const mapped = value >> 32n === 0xffffn || value >> 32n === 0x64ff9b0000000000000000n;
        fc.pre(!mapped);
        const expected = referenceV6Public.check(address, 'ipv6') && !referenceV6Special.check(address, 'ipv6');
        return isPublicAddress(address) === expected;
      }),
      { numRuns: 20_000 },
    );
  });

  it('property: parseIPv6 reads every spelling as the URL parser does', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
        const full = parseIPv6(address)!.toString(16).padStart(32, '0');
        const expanded = full.match(/.{4}/g)!.join(':');
        return (
          parseIPv6(address) === parseIPv6(canonical) &&
          new URL(`http://[${expanded}]/`).hostname.slice(1, -1) === canonical
        );
      }),
      { numRuns: 5000 },
    );
  });
});

describe('checkUntrustedUrl', () => {
  const PATH = '/webhookb2/a@b/IncomingWebhook/c/d';

  it('accepts https URLs on the allowed hosts, normalised', () => {
    for (const [raw, href] of [
      [`https://acme.webhook.office.com${PATH}`, `https://acme.webhook.office.com${PATH}`],
      [`https://ACME.Webhook.Office.com.${PATH}`, `https://acme.webhook.office.com${PATH}`],
      [`https://outlook.office.com/webhook/x`, `https://outlook.office.com/webhook/x`],
      // the URL parser decodes the dot: it is a name below webhook.office.com, resolved by Microsoft's DNS
      [`https://evil.example%2ewebhook.office.com/`, `https://evil.example.webhook.office.com/`],
      [
        `https://prod-00.westus.logic.azure.com:443/workflows/x?sig=1`,
        `https://prod-00.westus.logic.azure.com/workflows/x?sig=1`,
      ],
    ]) {
      const check = checkUntrustedUrl(raw, HOSTS);
      expect(check.ok && check.url.href).toBe(href);
    }
  });

  it.each([
    ['not a URL', 'acme.webhook.office.com/x'],
    ['http', `http://acme.webhook.office.com${PATH}`],
    ['another scheme', `ftp://acme.webhook.office.com${PATH}`],
    ['userinfo', `https://acme.webhook.office.com@127.0.0.1${PATH}`],
    ['userinfo (name only)', `https://user@acme.webhook.office.com${PATH}`],
    ['a port', `https://acme.webhook.office.com:444${PATH}`],
    ['two trailing dots', `https://acme.webhook.office.com..${PATH}`],
    ['the bare parent', `https://webhook.office.com${PATH}`],
    ['an empty label', `https://.webhook.office.com${PATH}`],
    ['a look-alike', `https://acme.webhook.office.com.evil.example${PATH}`],
    ['a suffix without the dot', `https://evilwebhook.office.com${PATH}`],
    ['a subdomain of an exact host', `https://x.outlook.office.com${PATH}`],
    ['a backslash trick', `https://evil.example\\.webhook.office.com${PATH}`],
    ['a fragment trick', `https://evil.example#.webhook.office.com`],
    ['IPv4', `https://52.96.0.1${PATH}`],
    ['decimal IPv4', 'https://2130706433/'],
    ['hex IPv4', 'https://0x7f000001/'],
    ['octal IPv4', 'https://017700000001/'],
    ['short IPv4', 'https://127.1/'],
    ['IPv4 with a trailing dot', 'https://127.0.0.1./'],
    ['IPv6', 'https://[::1]/'],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/'],
  ])('refuses %s', (_name, raw) => {
    const check = checkUntrustedUrl(raw, HOSTS);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).not.toContain('webhookb2');
  });

  /** Host spellings an attacker might try: IP literals in every form, the allowed names and look-alikes. */
  const ipSpelling = fc.oneof(
    fc.ipV4(),
    fc.ipV4Extended(),
    fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(String),
    fc.ipV6().map((a) => `[${a}]`),
    v4.map((a) => `[::ffff:${a}]`),
  );
  const nameSpelling = fc.oneof(
    fc.domain(),
    fc.constantFrom(
      'acme.webhook.office.com',
      'outlook.office.com',
      'prod-1.westus.logic.azure.com',
      'webhook.office.com',
    ),
    fc
      .tuple(fc.domain(), fc.constantFrom('.webhook.office.com', 'webhook.office.com', '.logic.azure.com'))
      .map(([a, b]) => a + b),
    fc
      .tuple(fc.constantFrom('acme.webhook.office.com', 'outlook.office.com'), fc.domain())
      .map(([a, b]) => `${a}.${b}`),
  );
  const decoration = fc.record({
    scheme: fc.constantFrom('https://', 'http://', 'HTTPS://', 'https:/', 'https:\\\\', 'ws://'),
    userinfo: fc.constantFrom('', 'u@', 'u:p@', 'acme.webhook.office.com@', 'outlook.office.com:443@'),
    trailingDot: fc.constantFrom('', '.', '..'),
    port: fc.constantFrom('', ':443', ':80', ':8443', ':0'),
    path: fc.constantFrom('/', PATH, '/x?y=1#frag', '\\x', '@evil.example/'),
  });

  it('property: an IP address in any spelling is never accepted', () => {
    fc.assert(
      fc.property(ipSpelling, decoration, (host, d) => {
        const raw = `${d.scheme}${d.userinfo}${host}${d.trailingDot}${d.port}${d.path}`;
        return !checkUntrustedUrl(raw, HOSTS).ok;
      }),
      { numRuns: 10_000 },
    );
  });

  it('property: whatever is accepted is https, without credentials, on port 443, on a listed host name', () => {
    fc.assert(
      fc.property(fc.oneof(ipSpelling, nameSpelling), decoration, (host, d) => {
        const raw = `${d.scheme}${d.userinfo}${host}${d.trailingDot}${d.port}${d.path}`;
        const check = checkUntrustedUrl(raw, HOSTS);
        if (!check.ok) return true;
        // what the connection would use, read again from the accepted URL
        const url = new URL(check.url.href);
        return (
          url.protocol === 'https:' &&
          url.username + url.password === '' &&
          url.port === '' &&
          !isIPv4(url.hostname) &&
          !url.hostname.startsWith('[') &&
          onList(url.hostname)
        );
      }),
      { numRuns: 20_000 },
    );
  });

  it('property: fast-check web URLs are accepted only on listed hosts', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (raw) => {
        const check = checkUntrustedUrl(raw, HOSTS);
        return check.ok ? onList(check.url.hostname) : check.reason !== '';
      }),
      { numRuns: 5000 },
    );
  });
});

describe('hostMatches and isOnOrigin', () => {
  it('matches exact names and subdomains of wildcard patterns only', () => {
    expect(hostMatches('a.webhook.office.com', HOSTS)).toBe(true);
    expect(hostMatches('a.b.webhook.office.com', HOSTS)).toBe(true);
    expect(hostMatches('webhook.office.com', HOSTS)).toBe(false);
    expect(hostMatches('awebhook.office.com', HOSTS)).toBe(false);
    expect(hostMatches('.webhook.office.com', HOSTS)).toBe(false);
    expect(hostMatches('a..webhook.office.com', HOSTS)).toBe(false);
    expect(hostMatches('outlook.office.com', HOSTS)).toBe(true);
    expect(hostMatches('x.outlook.office.com', HOSTS)).toBe(false);
  });

  it('compares whole origins: scheme, host and port', () => {
    const origins = ['http://127.0.0.1:8080'];
    expect(isOnOrigin('http://127.0.0.1:8080/webhookb2/x', origins)).toBe(true);
    expect(isOnOrigin('http://127.0.0.1:8081/x', origins)).toBe(false);
    expect(isOnOrigin('https://127.0.0.1:8080/x', origins)).toBe(false);
    expect(isOnOrigin('http://u@127.0.0.1:8080.evil.example/x', origins)).toBe(false);
    expect(isOnOrigin('http://127.0.0.1:8080/x', undefined)).toBe(false);
    expect(isOnOrigin('http://127.0.0.1:8080/x', [])).toBe(false);
    expect(isOnOrigin('not a url', origins)).toBe(false);
  });
});

describe('resolution', () => {
  const resolver = (answer: string[]) => async () =>
    answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('resolvePublicAddresses refuses a host with any address that is not public', async () => {
    await expect(resolvePublicAddresses('h', resolver(['52.96.0.1', '2603:1036::1']))).resolves.toHaveLength(2);
    for (const answer of [['10.0.0.1'], ['52.96.0.1', '127.0.0.1'], ['::ffff:169.254.169.254'], []]) {
      await expect(resolvePublicAddresses('h', resolver(answer))).rejects.toMatchObject({ code: UNSAFE_ADDRESS_CODE });
    }
  });

  it('publicOnlyLookup answers both callback forms with the checked addresses only', async () => {
    const lookup = publicOnlyLookup(resolver(['52.96.0.1', '2603:1036::1']));
    const one = await new Promise<unknown[]>((resolve) =>
      lookup('h', { family: 0 }, (...args: unknown[]) => resolve(args)),
    );
    expect(one).toEqual([null, '52.96.0.1', 4]);
    const six = await new Promise<unknown[]>((resolve) =>
      lookup('h', { family: 6 }, (...args: unknown[]) => resolve(args)),
    );
    expect(six).toEqual([null, '2603:1036::1', 6]);
    const all = await new Promise<unknown[]>((resolve) =>
      lookup('h', { all: true }, (...args: unknown[]) => resolve(args)),
    );
    expect(all).toEqual([
      null,
      [
        { address: '52.96.0.1', family: 4 },
        { address: '2603:1036::1', family: 6 },
      ],
    ]);
    const refused = publicOnlyLookup(resolver(['127.0.0.1']));
    const err = await new Promise<unknown>((resolve) => refused('h', { all: true }, (e) => resolve(e)));
    expect(err).toMatchObject({ code: UNSAFE_ADDRESS_CODE });
  });
});
