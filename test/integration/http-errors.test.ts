import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { API_SECURITY_HEADERS } from '../../src/server/security-headers.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    beforeReady(app) {
      const typed = app.withTypeProvider<ZodTypeProvider>();
      typed.post(
        '/api/test/echo',
        { schema: { body: z.strictObject({ name: z.string().min(1).max(50) }) } },
        async (request) => ({ name: request.body.name }),
      );
      typed.get('/api/test/crash', async () => {
        throw new Error('relation "secret_internal_table" does not exist');
      });
      typed.get('/api/test/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
      typed.get('/api/test/sql-error', async () =>
        t.testDatabase.database.withTenant({}, (tx) => tx.query('SELECT * FROM rampart.no_such_table_xyz')),
      );
    },
  });
});
afterAll(() => t.close());

const postJson = (payload: string, contentType = 'application/json') =>
  t.app.inject({ method: 'POST', url: '/api/test/echo', headers: { 'content-type': contentType }, payload });

function expectProblem(response: Awaited<ReturnType<typeof postJson>>, status: number, code: string) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code, type: `urn:rampart:error:${code}` });
  expect(typeof body.title).toBe('string');
  expect(body.requestId).toBe(response.headers['x-request-id']);
  return body;
}

describe('bad input is a 4xx problem', () => {
  it('answers a malformed JSON body with 400 MALFORMED_JSON', async () => {
    expectProblem(await postJson('{"name": '), 400, 'MALFORMED_JSON');
    expectProblem(await postJson(''), 400, 'MALFORMED_JSON');
  });

  it('refuses a prototype-poisoning body', async () => {
    expectProblem(await postJson('{"name":"x","__proto__":{"isAdmin":true}}'), 400, 'MALFORMED_JSON');
  });

  it('never quotes the rejected body back or into the log', async () => {
    const response = await postJson('{"name": hunter2-secret');
    expect(response.body).not.toContain('hunter2');
    expect(JSON.stringify(t.logs)).not.toContain('hunter2');
  });

  it('answers unknown fields and wrong types with 400 VALIDATION_FAILED and where they are', async () => {
    const unknownField = expectProblem(await postJson('{"name":"a","isAdmin":true}'), 400, 'VALIDATION_FAILED');
    expect(unknownField.errors).toEqual([expect.objectContaining({ in: 'body' })]);
    const wrongType = expectProblem(await postJson('{"name":42}'), 400, 'VALIDATION_FAILED');
    expect(wrongType.errors).toEqual([expect.objectContaining({ in: 'body', path: '/name' })]);
  });

  it('answers text/plain and form bodies with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectProblem(await postJson('{"name":"a"}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await postJson('name=a', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    expectProblem(await postJson(JSON.stringify({ name: 'x'.repeat(200 * 1024) })), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers an unknown route with 404 NOT_FOUND', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/nope' }), 404, 'NOT_FOUND');
    expectProblem(await t.app.inject({ method: 'DELETE', url: '/elsewhere?x=1' }), 404, 'NOT_FOUND');
  });

  it('answers an undecodable URL with 400 MALFORMED_URL, headers included, without echoing it', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/test/items/%ZZ<script>' });
    expectProblem(response, 400, 'MALFORMED_URL');
    expect(response.headers['content-security-policy']).toBe(API_SECURITY_HEADERS['content-security-policy']);
    expect(response.body).not.toContain('script');
  });

  it('answers an over-long path parameter with 414 URI_TOO_LONG', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: `/api/test/items/${'x'.repeat(300)}` }), 414, 'URI_TOO_LONG');
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/health' });
    expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toBe('GET, HEAD');
  });

  it('accepts a valid request', async () => {
    const response = await postJson('{"name":"Ada"}');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ name: 'Ada' });
  });
});

describe('no stack trace or internal message reaches a client', () => {
  it.each([['/api/test/crash'], ['/api/test/sql-error']])('answers %s with a bare 500 INTERNAL_ERROR', async (url) => {
    const response = await t.app.inject({ method: 'GET', url });
    const body = expectProblem(response, 500, 'INTERNAL_ERROR');
    expect(Object.keys(body).sort()).toEqual(['code', 'requestId', 'status', 'title', 'type']);
    expect(response.body).not.toMatch(/secret_internal_table|no_such_table|at .*\.ts|relation|SELECT/);
  });

  it('logs the real error, with the request id, for the operator', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/test/crash' });
    const line = t.logs.find((entry) => entry.requestId === response.headers['x-request-id'] && entry.level === 50);
    expect(JSON.stringify(line)).toContain('secret_internal_table');
  });
});

describe('every response', () => {
  it.each([
    ['a success', '/api/health/live', 200],
    ['a 404', '/api/missing', 404],
    ['a 500', '/api/test/crash', 500],
  ])('carries the security headers and a request id on %s', async (_case, url, status) => {
    const response = await t.app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(status);
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) expect(response.headers[name], name).toBe(value);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers.server).toBeUndefined();
  });

  it('carries HSTS only when Rampart is reached over https', async () => {
    const plain = await t.app.inject({ method: 'GET', url: '/api/health/live' });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    const behindTls = await createTestApp({ env: { PUBLIC_URL: 'https://auth.example' } });
    try {
      const response = await behindTls.app.inject({ method: 'GET', url: '/api/nope' });
      expect(response.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains; preload');
    } finally {
      await behindTls.close();
    }
  });

  it('gets a fresh request id: a client-supplied one is not trusted', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/health/live', headers: { 'x-request-id': 'forged' } });
    expect(response.headers['x-request-id']).not.toBe('forged');
  });

  it('is logged once, without credentials or secret query values', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/health/live?token=email-link-secret&page=2',
      headers: { authorization: 'Bearer rk_live_supersecret', cookie: 'rampart_session=s3cr3t' },
    });
    const lines = t.logs.filter((entry) => entry.requestId === response.headers['x-request-id']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request completed', method: 'GET', statusCode: 200 });
    const logged = JSON.stringify(lines);
    expect(logged).not.toMatch(/email-link-secret|supersecret|s3cr3t/);
    expect(logged).toContain('page=2');
  });
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes the routes', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/health', '/api/health/live']));
  });
});
