import { describe, expect, it } from 'vitest';
import { addressForLimits } from './route-rate-limit.js';

describe('addressForLimits', () => {
  it('keeps an IPv4 address as it is, and reads an IPv4-mapped IPv6 address as IPv4', () => {
    expect(addressForLimits('192.0.2.1')).toBe('192.0.2.1');
    expect(addressForLimits('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressForLimits('::FFFF:192.0.2.1')).toBe('192.0.2.1');
  });

  it('counts an IPv6 address by its /64, however it is written (an attacker rotating addresses inside one block)', () => {
    const block = '2001:db8:0:1::/64';
    for (const address of ['2001:db8:0:1::1', '2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '2001:DB8:0:1:1:2:3:4', '2001:db8:0:1::1%eth0']) {
      expect(addressForLimits(address), address).toBe(block);
    }
    expect(addressForLimits('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64');
    expect(addressForLimits('::1')).toBe('0:0:0:0::/64');
    expect(addressForLimits('fe80::')).toBe('fe80:0:0:0::/64');
  });

  it('never throws on a forwarded value that is not an address', () => {
    for (const value of ['1:2:3:4:5:6:7:8:9::10', ':::', 'garbage:', '']) expect(() => addressForLimits(value)).not.toThrow();
  });
});
