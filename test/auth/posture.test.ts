/**
 * The default posture: open only while no client is registered (and then on 127.0.0.1 only),
 * AUTH=on always asks for a token, AUTH=off never does and is warned about.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listenPosture } from '../../src/auth/posture';
import { testConfig } from '../../src/config';
import { authHeader, registerClient, bearerToken } from '../helpers/auth';
import { startTestServer } from '../helpers/test-server';

describe('Default posture', () => {
  it('with no client registered the server is open: requests need no token', async () => {
    const t = await startTestServer();
    try {
      assert.equal((await t.api().get(`${t.base}/Patient`)).status, 200);
      // Registering the first client closes it.
      const client = await registerClient(t, { scopes: 'system/*.rs' });
      assert.equal((await t.api().get(`${t.base}/Patient`)).status, 401);
      assert.equal((await t.api().get(`${t.base}/Patient`).set(authHeader(await bearerToken(t, client)))).status, 200);
    } finally {
      await t.close();
    }
  });

  it('AUTH=on asks for a token even before any client is registered', async () => {
    const t = await startTestServer({ auth: { ...testConfig().auth, mode: 'on' } });
    try {
      assert.equal((await t.api().get(`${t.base}/Patient`)).status, 401);
      assert.equal((await t.api().get(`${t.base}/metadata`)).status, 200);
    } finally {
      await t.close();
    }
  });

  it('AUTH=off needs no token even with clients registered, but a token presented is still checked', async () => {
    const t = await startTestServer({ auth: { ...testConfig().auth, mode: 'off' } });
    try {
      await registerClient(t, { scopes: 'system/*.rs' });
      assert.equal((await t.api().get(`${t.base}/Patient`)).status, 200);
      assert.equal((await t.api().get(`${t.base}/Patient`).set('Authorization', 'Bearer forged')).status, 401);
    } finally {
      await t.close();
    }
  });

  it('open (no client, AUTH=auto) listens on 127.0.0.1 only, whatever HOST says, and says so', () => {
    const open = listenPosture(testConfig(), false);
    assert.equal(open.host, '127.0.0.1');
    assert.match(open.note, /no client is registered.*127\.0\.0\.1 only/);
    const widened = listenPosture(testConfig({ host: '0.0.0.0' }), false);
    assert.equal(widened.host, '127.0.0.1');
    assert.match(widened.warning ?? '', /HOST=0\.0\.0\.0 is not used/);
  });

  it('with a client registered or AUTH=on it listens where configured; AUTH=off is a warning', () => {
    assert.equal(listenPosture(testConfig({ host: '0.0.0.0' }), true).host, '0.0.0.0');
    assert.equal(listenPosture(testConfig(), true).host, undefined);
    assert.equal(listenPosture(testConfig({ auth: { ...testConfig().auth, mode: 'on' } }), false).host, undefined);
    const off = listenPosture(testConfig({ host: '0.0.0.0', auth: { ...testConfig().auth, mode: 'off' } }), false);
    assert.equal(off.host, '0.0.0.0');
    assert.match(off.warning ?? '', /AUTH=off/);
  });
});

describe('Start-up line', function () {
  this.timeout(120_000);

  it('`npm start` with no client registered stays on 127.0.0.1 even when HOST asks for more, and says so', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-posture-'));
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, PORT: '0', HOST: '0.0.0.0', METRICS_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', MONGODB_URI: '', AUTH: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const line = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /^.*listening on http:\/\/.*$/m.exec(output);
          if (match) resolve(match[0]);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
      });
      assert.match(line, /listening on http:\/\/127\.0\.0\.1:\d+\/fhir/);
      assert.match(line, /no client is registered.*127\.0\.0\.1 only/);
      assert.match(output, /HOST=0\.0\.0\.0 is not used while no client is registered/);
      const base = /listening on (http:\/\/\S+)/.exec(line)?.[1] as string;
      assert.equal((await fetch(`${base}/Patient`)).status, 200);
      // Where Linux shows its listening sockets: the port is bound on 127.0.0.1 and nowhere else.
      if (fs.existsSync('/proc/net/tcp')) {
        const port = Number(new URL(base).port).toString(16).toUpperCase().padStart(4, '0');
        const tables = ['/proc/net/tcp', '/proc/net/tcp6'].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8'));
        const listening = tables
          .flatMap((t) => t.split('\n').slice(1))
          .map((row) => row.trim().split(/\s+/))
          .filter((cols) => cols[3] === '0A' && cols[1]?.endsWith(`:${port}`));
        assert.deepEqual(listening.map((cols) => cols[1]), [`0100007F:${port}`]);
      }
    } finally {
      child.removeAllListeners('exit');
      child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
