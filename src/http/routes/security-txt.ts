import type { FastifyPluginAsync } from 'fastify';
import type { RampartConfig } from '../../server/config.js';

/**
 * The text of `/.well-known/security.txt` (RFC 9116): how to report a vulnerability, until when the
 * file holds, the disclosure policy, and the file's own address (so a copy elsewhere can be told apart).
 */
export function securityTxt(settings: NonNullable<RampartConfig['securityTxt']>, publicUrl: string): string {
  const lines = [
    ...settings.contacts.map((contact) => `Contact: ${contact}`),
    `Expires: ${settings.expires.toISOString()}`,
    ...(settings.policyUrl === undefined ? [] : [`Policy: ${settings.policyUrl}`]),
    `Canonical: ${new URL('/.well-known/security.txt', publicUrl).href}`,
    'Preferred-Languages: en',
  ];
  return `${lines.join('\n')}\n`;
}

/** `GET /.well-known/security.txt` when the configuration names a contact; otherwise no such file (404). */
export const securityTxtRoutes: FastifyPluginAsync<{ config: RampartConfig }> = async (app, { config }) => {
  if (config.securityTxt === undefined) return;
  const { expires } = config.securityTxt;
  // Served all the same (the file is the operator's statement), but the operator is told at start.
  if (expires.getTime() <= Date.now()) {
    app.log.warn({ expires: expires.toISOString() }, 'security.txt has expired: set RAMPART_SECURITY_TXT_EXPIRES to a date ahead');
  } else if (expires.getTime() > Date.now() + 366 * 86_400_000) {
    app.log.warn({ expires: expires.toISOString() }, 'security.txt expires more than a year ahead (RFC 9116 advises less)');
  }
  const body = securityTxt(config.securityTxt, config.publicUrl);
  app.get('/.well-known/security.txt', { schema: { hide: true } }, (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(body),
  );
};
