import dns from 'node:dns';
import { isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { DEFAULT_TIMEOUT_MS } from './http';

/**
 * Untrusted URLs — a webhook URL taken from a profile trait, which anyone with an ingest key (or an end
 * user whose traits flow in through Segment) can set — checked before Pigeon posts to them:
 *
 * - {@link checkUntrustedUrl}: https only, no user name or password, the default port, and a host name
 *   (never an IP literal, in any spelling: `0x7f.1`, `2130706433`, `[::ffff:7f00:1]`…) on the allowed
 *   host list, compared after the URL parser's normalisation (lower case, IDNA, one trailing dot removed).
 * - {@link isPublicAddress}: every address the host name resolves to must be public unicast: no
 *   private, loopback, link-local, unspecified, CGNAT, multicast, documentation or reserved range,
 *   IPv4-mapped and NAT64 IPv6 forms judged by the IPv4 address inside.
 * - {@link resolvePublicAddresses} checks before the call (a clear, permanent error), and
 *   {@link publicOnlyDispatcher} checks again when the connection is made — the socket connects to the
 *   very address that was checked, so a DNS answer that changes between check and connect (DNS
 *   rebinding) cannot reach an internal address.
 *
 * A plugin that lets the operator trust an origin (e.g. a local fake in tests, a proxy on the own
 * network) does so in its provider configuration — settings only an admin key can write — never from
 * the untrusted value itself.
 */

/** Why a URL or address was refused; `code` is {@link UNSAFE_ADDRESS_CODE} for a refused address. */
export class UnsafeUrlError extends Error {
  constructor(
    message: string,
    readonly code: string = 'EUNSAFEURL',
  ) {
    super(message);
    this.name = 'UnsafeUrlError';
  }
}

/** The error code of a host name that resolves to an address that is not public. */
export const UNSAFE_ADDRESS_CODE = 'EUNSAFEADDRESS';

// ---- host names --------------------------------------------------------------------------------

/**
 * Whether `hostname` (already lower case, as the URL parser leaves it) matches one of `patterns`:
 * `example.com` matches only itself, `*.example.com` any name below it (not `example.com` itself).
 */
export function hostMatches(hostname: string, patterns: readonly string[]): boolean {
  const host = hostname.toLowerCase();
  return patterns.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p.startsWith('*.')) {
      const suffix = p.slice(1); // ".example.com"
      return host.length > suffix.length && host.endsWith(suffix) && !host.slice(0, -suffix.length).endsWith('.');
    }
    return host === p;
  });
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * An untrusted URL, checked: https, no credentials, the default port, a host name (not an IP address)
 * matching `allowedHosts` ({@link hostMatches}). The reasons never repeat the URL (it may be a credential).
 * The returned URL has the trailing dot of its host name, if any, removed.
 */
export function checkUntrustedUrl(raw: string, allowedHosts: readonly string[]): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: 'it is not a valid URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'it must be an https URL' };
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'it must not carry a user name or password' };
  }
  if (url.port !== '') return { ok: false, reason: 'it must use the default https port' };
  const hostname = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
  if (hostname === '' || hostname.endsWith('.')) return { ok: false, reason: 'its host name is not valid' };
  if (hostname.startsWith('[') || isIPv4(hostname) || isIPv6(hostname)) {
    return { ok: false, reason: 'its host must be a name, not an IP address' };
  }
  if (!hostMatches(hostname, allowedHosts)) return { ok: false, reason: 'its host is not on the allowed list' };
  url.hostname = hostname;
  return { ok: true, url };
}

/** Whether `url` is on one of `origins` (scheme, host and port compared after URL normalisation). */
export function isOnOrigin(url: string, origins: readonly string[] | undefined): boolean {
  if (!origins?.length) return false;
  let origin: string;
  try {
    origin = new URL(url.trim()).origin;
  } catch {
    return false;
  }
  if (origin === 'null') return false;
  return origins.some((o) => {
    try {
      return new URL(o.trim()).origin === origin;
    } catch {
      return false;
    }
  });
}

// ---- addresses ---------------------------------------------------------------------------------

type Range = readonly [base: bigint, bits: number];

function v4(text: string): bigint {
  return text.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

/** IPv4 ranges that are not public unicast (IANA special-purpose registry, multicast, reserved). */
const IPV4_NOT_PUBLIC: readonly Range[] = (
  [
    ['0.0.0.0', 8], // "this network", unspecified
    ['10.0.0.0', 8], // private
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local (cloud metadata services)
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.0.2.0', 24], // documentation
    ['192.31.196.0', 24], // AS112
    ['192.52.193.0', 24], // AMT
    ['192.88.99.0', 24], // 6to4 relay anycast
    ['192.168.0.0', 16], // private
    ['192.175.48.0', 24], // AS112
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24], // documentation
    ['203.0.113.0', 24], // documentation
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ] as const
).map(([base, bits]): Range => [v4(base), bits]);

function v6(text: string): bigint {
  return parseIPv6(text)!;
}

/** IPv6 ranges inside global unicast (2000::/3) that are not public; everything outside 2000::/3 is not public. */
const IPV6_NOT_PUBLIC: readonly Range[] = [
  [v6('2001::'), 23], // IETF protocol assignments (Teredo, ORCHID, benchmarking…)
  [v6('2001:db8::'), 32], // documentation
  [v6('2002::'), 16], // 6to4: an IPv4 address, possibly private, inside
  [v6('3fff::'), 20], // documentation
];
const GLOBAL_UNICAST: Range = [v6('2000::'), 3];
const IPV4_MAPPED: Range = [v6('::ffff:0:0'), 96];
const NAT64: Range = [v6('64:ff9b::'), 96];

function inRange(value: bigint, [base, bits]: Range, width: number): boolean {
  const shift = BigInt(width - bits);
  return value >> shift === base >> shift;
}

/** An IPv6 address (as `net.isIPv6` accepts it, without a zone) as a 128-bit number; undefined when not one. */
export function parseIPv6(text: string): bigint | undefined {
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let groups = text;
  let tail: number[] = [];
  const lastColon = groups.lastIndexOf(':');
  if (groups.includes('.', lastColon)) {
    const quad = groups.slice(lastColon + 1);
    const n = v4(quad);
    tail = [Number(n >> 16n), Number(n & 0xffffn)];
    groups = `${groups.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = groups.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const missing = 8 - left.length - right.length;
  const all = rest === undefined ? left : [...left, ...Array<string>(missing).fill('0'), ...right];
  if (all.length !== 8) return undefined;
  let value = all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tail.length) value = (value & ~0xffffffffn) | (BigInt(tail[0]) << 16n) | BigInt(tail[1]);
  return value;
}

function isPublicV4(value: bigint): boolean {
  return !IPV4_NOT_PUBLIC.some((r) => inRange(value, r, 32));
}

/**
 * Whether `address` (an IP address as DNS or a socket reports it) is public unicast. Anything that is
 * not a valid address, or carries an IPv6 zone, is not public. IPv4-mapped (`::ffff:a.b.c.d`) and
 * NAT64 (`64:ff9b::a.b.c.d`) addresses are judged by the IPv4 address inside.
 */
export function isPublicAddress(address: string): boolean {
  if (isIPv4(address)) return isPublicV4(v4(address));
  const value = parseIPv6(address);
  if (value === undefined) return false;
  if (inRange(value, IPV4_MAPPED, 128) || inRange(value, NAT64, 128)) return isPublicV4(value & 0xffffffffn);
  if (!inRange(value, GLOBAL_UNICAST, 128)) return false;
  return !IPV6_NOT_PUBLIC.some((r) => inRange(value, r, 128));
}

// ---- resolution --------------------------------------------------------------------------------

/** How host names are resolved: `dns.lookup` with `all: true` (read at call time, so tests can replace it). */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * The addresses `hostname` resolves to, when every one of them is public; rejects with an
 * {@link UnsafeUrlError} (code {@link UNSAFE_ADDRESS_CODE}) when any is not — one internal address is
 * enough to refuse — and with the resolver's own error (e.g. `ENOTFOUND`) when it fails.
 */
export async function resolvePublicAddresses(
  hostname: string,
  resolve: Resolver = systemResolver,
): Promise<{ address: string; family: number }[]> {
  const addresses = await resolve(hostname);
  if (addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address))) {
    throw new UnsafeUrlError('the host resolves to an address that is not public', UNSAFE_ADDRESS_CODE);
  }
  return addresses;
}

/**
 * A `lookup` for `net.connect`/`tls.connect` that resolves through {@link resolvePublicAddresses}: the
 * socket connects only to an address that was just checked. Handles both the one-address and the
 * `all: true` (happy eyeballs) forms of the callback.
 */
export function publicOnlyLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    const family = typeof options === 'object' && options !== null ? Number(options.family ?? 0) : 0;
    resolvePublicAddresses(hostname, resolve).then(
      (found) => {
        const wanted = family === 4 || family === 6 ? found.filter((a) => a.family === family) : found;
        if (wanted.length === 0) {
          const err = Object.assign(new Error(`no IPv${family} address for the host`), { code: 'ENOTFOUND' });
          return all ? callback(err, []) : callback(err, '', 0);
        }
        if (all) return callback(null, wanted);
        return callback(null, wanted[0].address, wanted[0].family);
      },
      (err: NodeJS.ErrnoException) => (all ? callback(err, []) : callback(err, '', 0)),
    );
  };
}

/**
 * An undici dispatcher whose connections go only to public addresses ({@link publicOnlyLookup}), for
 * calls to untrusted URLs. Its own keep-alive pool: a connection of the shared pool to a trusted origin
 * is never reused for an untrusted URL.
 */
export function publicOnlyDispatcher(resolve?: Resolver): Dispatcher {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    connections: 64,
    connect: { timeout: DEFAULT_TIMEOUT_MS, lookup: publicOnlyLookup(resolve) },
  });
}
