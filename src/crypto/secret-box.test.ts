import { describe, expect, it } from 'vitest';
import { open, seal } from './secret-box.js';

// "The Galois/Counter Mode of Operation" (McGrew and Viega), test case 16: AES-256, 96-bit IV, with
// associated data — the same vector NIST SP 800-38D's validation suite carries.
const VECTOR = {
  key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
  iv: 'cafebabefacedbaddecaf888',
  plaintext:
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
  associatedData: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
  ciphertext:
    '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
  tag: '76fc6ece0f4e1768cddf8853bb2d551b',
};
const hex = (value: string) => Buffer.from(value, 'hex');

describe('seal and open (AES-256-GCM)', () => {
  it('seals the specification vector to version, IV, ciphertext and tag', () => {
    const sealed = seal(hex(VECTOR.key), hex(VECTOR.plaintext), hex(VECTOR.associatedData), hex(VECTOR.iv));
    expect(sealed.toString('hex')).toBe(`01${VECTOR.iv}${VECTOR.ciphertext}${VECTOR.tag}`);
    expect(open(hex(VECTOR.key), sealed, hex(VECTOR.associatedData))?.toString('hex')).toBe(VECTOR.plaintext);
  });

  it('uses a fresh IV for every seal', () => {
    const key = Buffer.alloc(32, 7);
    const first = seal(key, Buffer.from('secret'), Buffer.from('a'));
    const second = seal(key, Buffer.from('secret'), Buffer.from('a'));
    expect(first.equals(second)).toBe(false);
  });

  it('refuses a changed byte anywhere, another key, and other associated data (a secret moved to another row)', () => {
    const key = hex(VECTOR.key);
    const sealed = seal(key, Buffer.from('totp secret'), Buffer.from('totp\nuser-a'));
    for (let index = 0; index < sealed.length; index += 1) {
      const tampered = Buffer.from(sealed);
      tampered[index]! ^= 1;
      expect(open(key, tampered, Buffer.from('totp\nuser-a'))).toBeUndefined();
    }
    expect(open(Buffer.alloc(32, 1), sealed, Buffer.from('totp\nuser-a'))).toBeUndefined();
    expect(open(key, sealed, Buffer.from('totp\nuser-b'))).toBeUndefined();
    expect(open(key, sealed.subarray(0, 20), Buffer.from('totp\nuser-a'))).toBeUndefined();
  });
});
