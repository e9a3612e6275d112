import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPassword, checkPasswordRules, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy.js';

/** A password of `length` characters with no short repeated unit and not in any list. */
function randomLooking(length: number): string {
  const alphabet = 'Xk7#mQ2vLp9!Rz4@Wn8$Tb3%Yc6^Hd5&Gf1*Js0';
  let password = '';
  for (let i = 0; i < length; i += 1) password += alphabet[(i * 11 + Math.floor(i / 7)) % alphabet.length];
  return password;
}

const accepted = { ok: true };
const refused = (reason: string) => ({ ok: false, reason });

/** Twelve distinct emoji, each one astral code point (two UTF-16 units). */
const EMOJI = Array.from({ length: 12 }, (_, i) => String.fromCodePoint(0x1f600 + i));

describe('checkPasswordRules', () => {
  it('counts length in code points, between 12 and 128', () => {
    expect(MIN_PASSWORD_LENGTH).toBe(12);
    expect(MAX_PASSWORD_LENGTH).toBe(128);
    expect(checkPasswordRules(randomLooking(11), {})).toEqual(refused('too_short'));
    expect(checkPasswordRules(randomLooking(12), {})).toEqual(accepted);
    expect(checkPasswordRules(randomLooking(128), {})).toEqual(accepted);
    expect(checkPasswordRules(randomLooking(129), {})).toEqual(refused('too_long'));
    expect(checkPasswordRules(randomLooking(100_000), {})).toEqual(refused('too_long'));
  });

  it('counts an astral emoji as one character', () => {
    expect(EMOJI.join('')).toHaveLength(24);
    expect(checkPasswordRules(EMOJI.join(''), {})).toEqual(accepted);
    expect(checkPasswordRules(EMOJI.slice(0, 11).join(''), {})).toEqual(refused('too_short'));
    // Four emoji and eight letters make twelve characters in sixteen UTF-16 units.
    expect(checkPasswordRules(`${EMOJI.slice(0, 4).join('')}zebrafin`, {})).toEqual(accepted);
    expect(checkPasswordRules(`${EMOJI.slice(0, 4).join('')}zebrafi`, {})).toEqual(refused('too_short'));
  });

  it('counts length after NFKC normalisation', () => {
    // Fifteen code points typed, eleven once each "e" and its combining acute are composed.
    expect(checkPasswordRules('Ze\u0301bre\u0301-e\u0301te\u0301!!', {})).toEqual(refused('too_short'));
    expect(checkPasswordRules('Ze\u0301bre\u0301-e\u0301te\u0301!!?', {})).toEqual(accepted);
  });

  it('welcomes any script, spaces and symbols, with no composition rules', () => {
    for (const password of ['correct horse battery staple', 'ελληνικά γράμματα', '日本語のパスワードですよ', '   spaces   around   ', 'alllowercaseletters']) {
      expect(checkPasswordRules(password, {})).toEqual(accepted);
    }
  });

  it('refuses an entry of the bundled list, whatever its case', () => {
    for (const password of ['1qaz2wsx3edc', '1QAZ2WSX3EDC', 'Administrator', 'passwordpassword', 'qwertyuiopasdf', 'ＱＷＥＲＴＹ１２３４５６']) {
      expect(checkPasswordRules(password, {})).toEqual(refused('common'));
    }
  });

  it('has every entry of the bundled list at least as long as the minimum', () => {
    const file = readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8');
    const entries = file.split(/\r?\n/u).filter((line) => line !== '' && !line.startsWith('#'));
    expect(entries.length).toBeGreaterThan(300);
    expect(new Set(entries).size).toBe(entries.length);
    for (const entry of entries) {
      expect([...entry].length).toBeGreaterThanOrEqual(MIN_PASSWORD_LENGTH);
      expect(entry).toBe(entry.toLowerCase());
      expect(checkPasswordRules(entry, {})).toMatchObject({ ok: false });
    }
  });

  it('refuses a short unit repeated', () => {
    for (const password of ['aaaaaaaaaaaa', 'abcabcabcabc', 'AbCaBcAbCabc', 'xQ7!xQ7!xQ7!', '1212121212121', 'zz', '\u{1F600}\u{1F601}'.repeat(6)]) {
      expect(checkPasswordRules(password, {})).toEqual(password === 'zz' ? refused('too_short') : refused('common'));
    }
    expect(checkPasswordRules('xQ7!kxQ7!kxQ7!k', {})).toEqual(accepted);
  });

  it('refuses the account email, its local part repeated, or the name', () => {
    const context = { email: 'Ada.Lovelace@example.com', name: 'Augusta Ada King' };
    expect(checkPasswordRules('ada.lovelace@example.com', context)).toEqual(refused('context'));
    expect(checkPasswordRules('ADA.LOVELACE@EXAMPLE.COM', context)).toEqual(refused('context'));
    expect(checkPasswordRules('ada.lovelace', context)).toEqual(refused('context'));
    expect(checkPasswordRules('ada.lovelaceada.lovelace', context)).toEqual(refused('context'));
    expect(checkPasswordRules('augusta ada king', context)).toEqual(refused('context'));
    expect(checkPasswordRules('AugustaAdaKing', context)).toEqual(refused('context'));
    expect(checkPasswordRules('ada.lovelace rocks', context)).toEqual(accepted);
    expect(checkPasswordRules('ada.lovelace', {})).toEqual(accepted);
    expect(checkPasswordRules('ada.lovelace', { email: null, name: null })).toEqual(accepted);
  });

  it('refuses text that is not well-formed Unicode, or that contains NUL', () => {
    expect(checkPasswordRules('abcdefghijk\ud800mnop', {})).toEqual(refused('invalid'));
    expect(checkPasswordRules('\udc00'.repeat(20), {})).toEqual(refused('invalid'));
    expect(checkPasswordRules('pass\u0000word-long-enough', {})).toEqual(refused('invalid'));
    expect(checkPasswordRules('\ud800', {})).toEqual(refused('invalid'));
  });

  it('throws a TypeError on misuse', () => {
    expect(() => checkPasswordRules(42 as unknown as string, {})).toThrow(TypeError);
    expect(() => checkPasswordRules('violet tractor umbrella', null as unknown as object)).toThrow(TypeError);
    expect(() => checkPasswordRules('violet tractor umbrella', { email: 7 as unknown as string })).toThrow(TypeError);
  });
});

describe('checkPassword', () => {
  it('consults the breach check only after the offline rules pass', async () => {
    const asked: string[] = [];
    const isBreached = async (password: string) => {
      asked.push(password);
      return password === 'leaked but long enough' ? ('breached' as const) : ('not_breached' as const);
    };
    expect(await checkPassword('too short', {}, isBreached)).toEqual(refused('too_short'));
    expect(await checkPassword('leaked but long enough', {}, isBreached)).toEqual(refused('breached'));
    expect(await checkPassword('violet tractor umbrella', {}, isBreached)).toEqual(accepted);
    expect(asked).toEqual(['leaked but long enough', 'violet tractor umbrella']);
  });

  it('treats an unavailable breach check as passing', async () => {
    expect(await checkPassword('violet tractor umbrella', {}, async () => 'unavailable')).toEqual(accepted);
  });
});
