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
  const body = securityTxt(config.securityTxt, config.publicUrl);
  app.get('/.well-known/security.txt', { schema: { hide: true } }, (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(body),
  );
};
