/**
 * `npm run client`: an operator registers, lists, rotates and removes clients with a command, in the
 * database a running server uses; the server honours the change without a restart.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { authHeader, makeKey, signAssertion, tokenEndpoint, tokenRequest } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

const ROOT = path.resolve(__dirname, '../..');

async function cli(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/client.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir, MONGODB_URI: '', LOG_LEVEL: 'silent' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('Client registry command (npm run client)', function () {
  // Each command is its own Node process that compiles TypeScript on the fly.
  this.timeout(60_000);
  let t: TestServer;

  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('add, list, rotate and remove work against the running server\'s database', async () => {
    const key = await makeKey('ES384');
    const jwksFile = path.join(t.dataDir, 'payer.jwks.json');
    fs.writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));

    const added = await cli(t.dataDir, 'add', '--name', 'Acme Payer', '--jwks', jwksFile, '--scope', 'system/Task.rs system/Patient.rs', '--group', 'Group/acme');
    assert.equal(added.code, 0, added.stderr);
    const id = /Registered client (\S+)/.exec(added.stdout)?.[1] as string;
    assert.ok(id);

    const listed = await cli(t.dataDir, 'list');
    assert.match(listed.stdout, new RegExp(`${id}  Acme Payer`));
    assert.match(listed.stdout, /group: Group\/acme/);

    // The running server (which read no client at start) now issues tokens to it, and requires them.
    const aud = await tokenEndpoint(t);
    const issued = await tokenRequest(t, await signAssertion({ id, kid: key.kid, alg: 'ES384', privateKey: key.privateKey }, aud), 'system/Task.rs');
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal((await t.api().get(`${t.base}/Task`).set(authHeader(issued.body.access_token))).status, 200);

    const next = await makeKey('RS384');
    fs.writeFileSync(jwksFile, JSON.stringify(next.publicJwk));
    const rotated = await cli(t.dataDir, 'rotate', id, '--jwks', jwksFile);
    assert.equal(rotated.code, 0, rotated.stderr);
    const old = await tokenRequest(t, await signAssertion({ id, kid: key.kid, alg: 'ES384', privateKey: key.privateKey }, aud), 'system/Task.rs');
    assert.equal(old.status, 401);
    const fresh = await tokenRequest(t, await signAssertion({ id, kid: next.kid, alg: 'RS384', privateKey: next.privateKey }, aud), 'system/Task.rs');
    assert.equal(fresh.status, 200);

    assert.equal((await cli(t.dataDir, 'remove', id)).code, 0);
    const gone = await tokenRequest(t, await signAssertion({ id, kid: next.kid, alg: 'RS384', privateKey: next.privateKey }, aud), 'system/Task.rs');
    assert.equal(gone.status, 401);
    assert.deepEqual(await t.server.auth.clients.list(), []);
  });

  it('refuses a JWKS holding a private key, a malformed scope and an unknown command, and registers nothing', async () => {
    const key = await makeKey('ES384');
    const { exportJWK } = await import('jose');
    const privateFile = path.join(t.dataDir, 'private.jwks.json');
    fs.writeFileSync(privateFile, JSON.stringify({ keys: [{ ...(await exportJWK(key.privateKey)), kid: key.kid, alg: 'ES384' }] }));
    const leaked = await cli(t.dataDir, 'add', '--name', 'Careless', '--jwks', privateFile, '--scope', 'system/*.rs');
    assert.equal(leaked.code, 1);
    assert.match(leaked.stderr, /private material/);

    const publicFile = path.join(t.dataDir, 'public.jwks.json');
    fs.writeFileSync(publicFile, JSON.stringify({ keys: [key.publicJwk] }));
    const badScope = await cli(t.dataDir, 'add', '--name', 'Sloppy', '--jwks', publicFile, '--scope', 'patient/*.read');
    assert.equal(badScope.code, 1);
    assert.match(badScope.stderr, /not a SMART system scope/);

    const unknown = await cli(t.dataDir, 'promote');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Usage/);
    assert.deepEqual(await t.server.auth.clients.list(), []);
  });
});
