import { loadConfig, loadSecrets } from '../../src/config';
import { SecretBox, UnreadableSecretError } from '../../src/domain/provider/secret-box';

/** The at-rest encryption of provider secrets, and what a rotation of PIGEON_SECRET relies on. */
describe('SecretBox', () => {
  it('opens what it sealed, and what the previous secret sealed (stale: seal it again)', () => {
    const old = new SecretBox('old');
    const rotating = new SecretBox('new', ['old']);
    const sealedOld = old.seal({ token: 'x' });
    expect(rotating.openChecked(sealedOld)).toEqual({ value: { token: 'x' }, stale: true });
    const sealedNew = rotating.seal('y');
    expect(rotating.openChecked(sealedNew)).toEqual({ value: 'y', stale: false });
    // the new secret alone opens what the rotation sealed, never the old values
    expect(new SecretBox('new').open(sealedNew)).toBe('y');
    expect(() => new SecretBox('new').open(sealedOld)).toThrow(UnreadableSecretError);
  });

  it('a value no key opens (another secret, damaged) is an UnreadableSecretError naming PIGEON_SECRET', () => {
    const box = new SecretBox('a', ['b']);
    const other = new SecretBox('c').seal('s');
    expect(() => box.open(other)).toThrow(/cannot be decrypted with PIGEON_SECRET/);
    const sealed = box.seal('s');
    expect(() => box.open(`${sealed.slice(0, -4)}AAAA`)).toThrow(UnreadableSecretError);
    expect(() => box.open('enc:v1:garbage')).toThrow(UnreadableSecretError);
  });

  it('PIGEON_SECRET_PREVIOUS is read with PIGEON_SECRET (the server and `pigeon secrets rotate`)', () => {
    const env = { PIGEON_SECRET: 'new', PIGEON_SECRET_PREVIOUS: ' old ' };
    expect(loadConfig(env)).toMatchObject({ secret: 'new', secretPrevious: 'old' });
    expect(loadSecrets(env)).toEqual({ secret: 'new', secretPrevious: 'old' });
    expect(loadSecrets({}).secretPrevious).toBeUndefined();
  });
});
