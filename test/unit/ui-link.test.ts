/** The UI link names the UI of the server actually used, or says where to find it. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { discoverUi } from '../../src/cli/temporal';

let ui: Server;
let uiPort: number;

beforeAll(async () => {
  // A stand-in for a dev server's UI; its frontend would be 1000 ports below (pick a UI port where that is valid).
  for (;;) {
    ui = createServer((_req, res) => res.end('ui'));
    await new Promise<void>((r) => ui.listen(0, '127.0.0.1', r));
    uiPort = (ui.address() as AddressInfo).port;
    if (uiPort > 1100) break;
    ui.close();
  }
});
afterAll(() => ui.close());

const saved = process.env.TEMPORAL_UI_URL;
afterEach(() => {
  if (saved === undefined) delete process.env.TEMPORAL_UI_URL;
  else process.env.TEMPORAL_UI_URL = saved;
});

test('a local server: its UI on the frontend port + 1000, when it answers', async () => {
  delete process.env.TEMPORAL_UI_URL;
  expect(await discoverUi(`127.0.0.1:${uiPort - 1000}`)).toBe(`http://127.0.0.1:${uiPort}`);
});

test('a local server without a UI there: none is claimed', async () => {
  delete process.env.TEMPORAL_UI_URL;
  ui.close();
  expect(await discoverUi(`127.0.0.1:${uiPort - 1000}`)).toBeUndefined();
  await new Promise<void>((r) => ui.listen(uiPort, '127.0.0.1', r));
});

test('a remote cluster: only TEMPORAL_UI_URL can say where its UI is', async () => {
  delete process.env.TEMPORAL_UI_URL;
  expect(await discoverUi('temporal-frontend.internal:7233')).toBeUndefined();
  process.env.TEMPORAL_UI_URL = 'https://temporal-ui.internal:8080/';
  expect(await discoverUi('temporal-frontend.internal:7233')).toBe('https://temporal-ui.internal:8080');
});
