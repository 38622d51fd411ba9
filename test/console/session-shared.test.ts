/**
 * Two gateway instances on one SQLite file or Postgres database: a session signed in on one works
 * on the other, and signing out (or a revocation) on one ends it on both. Changing ADMIN_TOKEN ends
 * the sessions it opened.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Stores } from '../../src/store/stores.js';
import { startTestGateway } from '../helpers/gateway.js';
import { describeBackends } from '../store/store-backends.js';
import { ConsoleBrowser } from './session-client.js';

const shared = { TOKEN_SECRET: `secret-${randomBytes(12).toString('hex')}`, ADMIN_TOKEN: `admin-${randomBytes(12).toString('hex')}` };
// The database handles are closed by the suite, not by the gateways.
const borrowed = (s: Stores): Stores => ({ ...s, close: () => Promise.resolve() });

describeBackends('console sessions across instances', (fresh, backend) => {
  it('signs in on A, works on B, signs out on B, and A refuses the cookie', async () => {
    const db = await fresh();
    const a = await startTestGateway({ env: shared, stores: borrowed(await db.open()) });
    const b = await startTestGateway({ env: shared, stores: borrowed(await db.open()) });
    try {
      const onA = new ConsoleBrowser(a.url);
      await onA.signIn(shared.ADMIN_TOKEN);
      // The same browser (cookie and token) talking to the other instance.
      const onB = Object.assign(new ConsoleBrowser(b.url), { cookie: onA.cookie, csrf: onA.csrf });
      expect((await onB.call('GET', '/console/api/session')).json.csrf_token).toBe(onA.csrf);
      expect((await onB.call('POST', '/admin/keys', { name: `via-b-${backend.name}` })).status).toBe(201);
      expect((await onB.call('DELETE', '/console/api/session')).status).toBe(204);
      expect((await onA.call('GET', '/admin/keys')).status).toBe(401);
      expect((await onA.call('GET', '/console/api/session')).status).toBe(401);
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('a credential revoked on one instance ends its sessions on the other; a changed ADMIN_TOKEN ends bootstrap sessions', async () => {
    const db = await fresh();
    const a = await startTestGateway({ env: shared, stores: borrowed(await db.open()) });
    const b = await startTestGateway({ env: shared, stores: borrowed(await db.open()) });
    const rotated = await startTestGateway({ env: { ...shared, ADMIN_TOKEN: `rotated-${randomBytes(12).toString('hex')}` }, stores: borrowed(await db.open()) });
    try {
      const made = (await (await fetch(`${a.url}/admin/admins`, { method: 'POST', headers: { authorization: `Bearer ${shared.ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{"name":"ops","role":"admin"}' })).json()) as { id: string; secret: string };
      const named = new ConsoleBrowser(b.url);
      await named.signIn(made.secret);
      const boot = new ConsoleBrowser(a.url);
      await boot.signIn(shared.ADMIN_TOKEN);
      expect((await named.call('GET', '/admin/keys')).status).toBe(200);
      await fetch(`${a.url}/admin/admins/${made.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${shared.ADMIN_TOKEN}` } });
      expect((await named.call('GET', '/admin/keys')).status).toBe(401);
      // The instance started with another ADMIN_TOKEN no longer honours sessions of the old one.
      const onRotated = Object.assign(new ConsoleBrowser(rotated.url), { cookie: boot.cookie, csrf: boot.csrf });
      expect((await onRotated.call('GET', '/console/api/session')).status).toBe(401);
    } finally {
      await a.close();
      await b.close();
      await rotated.close();
    }
  }, 30_000);
});
