import fc from 'fast-check';
import addressparser from 'nodemailer/lib/addressparser';
import { describeMissingAddress, findAddress } from '../../src/domain/channel/channel-address';
import { Channel } from '../../src/domain/channel/channel.enum';
import { isEmailAddress, singleEmailAddress } from '../../src/domain/channel/email-address';
import { singleRecipient } from '../../src/plugins/providers/smtp/smtp.provider';

/** Separators a mail library reads between addresses of a list. */
const separator = fc.constantFrom(',', ', ', ';', '; ', ' , ', ',\n', ' ');

describe('singleEmailAddress: one email address, never a list', () => {
  it.each(['ada@example.com', 'a.b+tag@sub.example.co.uk', "o'brien@example.ie", 'user@localhost', 'jörg@müller.de'])(
    'accepts %s',
    (value) => {
      expect(singleEmailAddress(value)).toEqual({ ok: true, address: value });
      expect(singleEmailAddress(`  ${value}\n`)).toEqual({ ok: true, address: value });
    },
  );

  it.each([
    ['a@x.com, b@x.com', 'several'],
    ['a@x.com;b@x.com', 'several'],
    ['a@x.com b@x.com', 'several'],
    ['team: a@x.com, b@x.com;', 'several'],
    ['Ada <ada@x.com>', 'not one valid'],
    ['<ada@x.com>', 'not one valid'],
    ['"a@x.com" <b@x.com>', 'several'],
    ['ada@x.com (Ada)', 'not one valid'],
    ['"ada"@x.com', 'not one valid'],
    ['ada@[10.0.0.1]', 'not one valid'],
    ['ada@x.com.', 'not one valid'],
    ['ada@-x.com', 'not one valid'],
    ['.ada@x.com', 'not one valid'],
    ['ada..b@x.com', 'not one valid'],
    ['ada@', 'not one valid'],
    ['@x.com', 'not one valid'],
    ['ada', 'not one valid'],
    ['ada@x.com\r\nBcc: b@x.com', 'several'],
    ['ada@x.com\nbcc', 'not one valid'],
    [`${'a'.repeat(65)}@x.com`, 'not one valid'],
    [`a@${'b'.repeat(250)}.com`, 'not one valid'],
  ])('refuses %j (%s)', (value, reason) => {
    const check = singleEmailAddress(value);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toContain(reason);
  });

  it.each([[42], [null], [['a@x.com']], [{ email: 'a@x.com' }], [true]])(
    'refuses a value that is not a string: %j',
    (v) => {
      expect(singleEmailAddress(v).ok).toBe(false);
    },
  );

  it('property: every list of two or more addresses is refused', () => {
    fc.assert(
      fc.property(fc.array(fc.emailAddress(), { minLength: 2, maxLength: 6 }), separator, (list, sep) => {
        expect(singleEmailAddress(list.join(sep)).ok).toBe(false);
        expect(singleRecipient(list.join(sep))).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('property: a list in any decoration (names, groups, brackets) is refused', () => {
    const named = fc.tuple(fc.string({ maxLength: 8 }), fc.emailAddress()).map(([n, a]) => `"${n}" <${a}>`);
    const any = fc.oneof(fc.emailAddress(), named);
    fc.assert(
      fc.property(fc.array(any, { minLength: 2, maxLength: 4 }), separator, fc.boolean(), (list, sep, group) => {
        const value = group ? `g: ${list.join(sep)};` : list.join(sep);
        expect(singleEmailAddress(value).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('property: one generated address is accepted as itself, and nodemailer reads exactly that one recipient', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        fc.pre(address.length <= 254);
        expect(singleEmailAddress(address)).toEqual({ ok: true, address });
        expect(singleRecipient(address)).toBe(address);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: whatever string is accepted, nodemailer reads it as exactly one address, the same one', () => {
    const chars = fc.constantFrom(...'ab.@,;:<>"() \\\n\t[]!#$%&\'*+/=?^_`{|}~-é1'.split(''));
    const part = fc.string({ unit: chars, minLength: 1, maxLength: 12 });
    const addressLike = fc.tuple(part, part).map(([local, domain]) => `${local}@${domain}`);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: chars, maxLength: 30 }), addressLike), (value) => {
        const check = singleEmailAddress(value);
        if (!check.ok) return;
        expect(isEmailAddress(check.address)).toBe(true);
        const parsed = addressparser(check.address, { flatten: true });
        expect(parsed).toHaveLength(1);
        expect(parsed[0].address).toBe(check.address);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('findAddress for EMAIL', () => {
  it('treats a list as no usable address, and says which trait and why', () => {
    const lookup = findAddress(Channel.EMAIL, { email: 'a@x.com, b@x.com' });
    expect(lookup).toEqual({
      found: false,
      tried: ['email'],
      invalid: { path: 'email', reason: 'it holds several addresses; it must be exactly one' },
    });
    expect(!lookup.found && describeMissingAddress(lookup)).toBe(
      "the profile's email is not a usable address: it holds several addresses; it must be exactly one",
    );
  });

  it('returns the trimmed address, and "no address" when the trait is absent or blank', () => {
    expect(findAddress(Channel.EMAIL, { email: ' ada@example.com ' })).toEqual({
      found: true,
      path: 'email',
      address: 'ada@example.com',
    });
    const none = findAddress(Channel.EMAIL, { email: '  ' });
    expect(none).toEqual({ found: false, tried: ['email'] });
    expect(!none.found && describeMissingAddress(none)).toBe('the profile has no address (looked at email)');
  });

  it('leaves the other channels as they were (no check)', () => {
    expect(findAddress(Channel.SMS, { phone: '+1 555, 0100' })).toMatchObject({ found: true, address: '+1 555, 0100' });
  });
});
