import { describe, expect, it } from 'vitest';
import { isInternalAddress, publicAddressesOnly } from './addresses.ts';

const lookup = (hostname: string, all: boolean) =>
  new Promise<unknown>((resolve, reject) =>
    publicAddressesOnly(hostname, { all }, (error, address, family) =>
      error ? reject(error) : resolve(all ? address : { address, family }),
    ),
  );

describe('internal addresses', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
    '::a9fe:a9fe',
  ])('%s is internal', (address) => expect(isInternalAddress(address)).toBe(true));

  it.each(['93.184.216.34', '172.32.0.1', '100.128.0.1', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', 'example.com'])(
    '%s is not',
    (address) => expect(isInternalAddress(address)).toBe(false),
  );
});

describe('connecting to public addresses only', () => {
  it('answers a public address, one or all, as the socket asked', async () => {
    await expect(lookup('93.184.216.34', false)).resolves.toEqual({ address: '93.184.216.34', family: 4 });
    await expect(lookup('93.184.216.34', true)).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it('refuses a name that resolves to an internal address', async () => {
    await expect(lookup('localhost', false)).rejects.toMatchObject({
      code: 'EINTERNALADDRESS',
      message: 'localhost resolves to an internal address',
    });
    await expect(lookup('10.0.0.1', true)).rejects.toMatchObject({ code: 'EINTERNALADDRESS' });
  });

  it('passes a failed resolution through', async () => {
    await expect(lookup('no-such-host.invalid', false)).rejects.toMatchObject({
      code: expect.stringMatching(/^E(NOTFOUND|AI_AGAIN)/),
    });
  });
});
