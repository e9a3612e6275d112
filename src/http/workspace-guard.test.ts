import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { collectWorkspaceRoutes, requirePermission } from './workspace-guard.js';

describe('collectWorkspaceRoutes', () => {
  it('refuses to register a workspace route that declares no action of the permission table', async () => {
    const app = Fastify();
    collectWorkspaceRoutes(app);
    await expect(async () => {
      app.get('/api/workspaces/:ws/reports', () => ({}));
      await app.ready();
    }).rejects.toThrow(/must declare its action with requirePermission/);
  });

  it('refuses a workspace route whose workspace parameter has another name, which the matrix would miss', async () => {
    const app = Fastify();
    collectWorkspaceRoutes(app);
    await expect(async () => {
      app.get('/api/workspaces/:workspaceId/reports', requirePermission('content:read'), () => ({}));
      await app.ready();
    }).rejects.toThrow(/names its workspace parameter :ws/);
  });

  it('lists each workspace route once with its action, leaving out the HEAD twin of a GET and other routes', async () => {
    const app = Fastify();
    const routes = collectWorkspaceRoutes(app);
    app.get('/api/workspaces/:ws/reports', requirePermission('content:read'), () => ({}));
    app.delete('/api/workspaces/:ws/reports/:id', requirePermission('content:delete'), () => ({}));
    app.get('/api/workspaces', () => ({}));
    await app.ready();
    expect(routes).toEqual([
      { method: 'GET', url: '/api/workspaces/:ws/reports', permission: 'content:read' },
      { method: 'DELETE', url: '/api/workspaces/:ws/reports/:id', permission: 'content:delete' },
    ]);
  });
});
