/** When the database does not answer, console calls get 503 (retry later), never a sign-out or a cookie for a session that was not stored. */
import { afterEach, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ConsoleBrowser } from './session-client.js';

let gw: TestGateway;
afterEach(async () => {
  await gw.close();
});

const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));

it('a sign-in whose session cannot be stored answers 503 with no cookie', async () => {
  gw = await startTestGateway();
  gw.stores.sessions.create = refused;
  const a = await new ConsoleBrowser(gw.url).signIn(gw.adminToken);
  expect(a.status).toBe(503);
  expect(a.json).toMatchObject({ error_type: 'service_unavailable' });
  expect(a.headers.get('set-cookie')).toBeNull();
});

it('a signed-in console gets 503 while the sessions cannot be read, and carries on afterwards', async () => {
  gw = await startTestGateway();
  const b = new ConsoleBrowser(gw.url);
  await b.signIn(gw.adminToken);
  const find = gw.stores.sessions.find.bind(gw.stores.sessions);
  gw.stores.sessions.find = refused;
  const down = await b.call('GET', '/admin/keys');
  expect(down.status).toBe(503);
  expect(down.headers.get('retry-after')).toBe('5');
  const session = await b.call('GET', '/console/api/session');
  expect(session.status).toBe(503);
  expect(session.headers.get('set-cookie')).toBeNull();
  gw.stores.sessions.find = find;
  expect((await b.call('GET', '/admin/keys')).status).toBe(200);
});
