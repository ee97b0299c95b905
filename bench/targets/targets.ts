/**
 * Starting the two servers under test, each in its own process, and describing them uniformly.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Build } from '../build';
import { supportingInfoParameter } from '../workloads';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { authorize } from '../load/measure';
import { Child } from './child';
import { type LoadedStore, StoreShelf } from './stores';

export interface Target {
  name: 'ours' | 'peer';
  /** FHIR base URL on loopback. */
  base: string;
  child: Child;
  loadMs: number;
  /** Ours: the loader's peak RSS in MB, and whether the load was a stored one reused. */
  loaderPeakRssMb?: number;
  loadReused?: boolean;
  resources: number;
  counts: Record<string, number>;
  /** Spawn to ready, as an operator sees it. */
  startupMs: number;
  /** What the server itself reports as its start-up (ours: "ready in N ms"). */
  selfReportedStartupMs?: number;
  /** Every start-up measured (ours starts several times on the same data; the median is reported). */
  startupRunsMs?: number[];
  rssAfterLoadMb: number;
  validation: string;
  cleanup(): Promise<void>;
}

const READY_TIMEOUT_MS = 180_000;

/**
 * Loads the population through our repository in one process (or takes a stored load of it, see
 * stores.ts), then starts the real server on a copy of it.
 */
/** Registers a bench client with `npm run client`'s code, before the server starts on the same data. */
async function registerBenchClient(build: Build, dataDir: string): Promise<{ id: string; kid: string; privateKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = 'bench-1';
  const file = path.join(dataDir, 'bench-client.jwks.json');
  fs.writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES384' }] }));
  const cli = Child.start('client', [...build.args('src/cli/client.ts'), 'add', '--name', 'bench', '--jwks', file, '--scope', 'system/*.cruds'], { DATA_DIR: dataDir });
  const line = await cli.waitFor((l) => /Registered client \S+/.test(l), READY_TIMEOUT_MS, 'client registration');
  await cli.stop();
  return { id: /Registered client (\S+)/.exec(line)?.[1] as string, kid, privateKey };
}

/** A SMART Backend Services token for the bench client, the way any client gets one. */
async function benchToken(base: string, client: { id: string; kid: string; privateKey: CryptoKey }): Promise<string> {
  const discovery = (await (await fetch(`${base}/.well-known/smart-configuration`)).json()) as { token_endpoint: string };
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid: client.kid, typ: 'JWT' })
    .setIssuer(client.id)
    .setSubject(client.id)
    .setAudience(discovery.token_endpoint)
    .setExpirationTime('4m')
    .setJti(crypto.randomUUID())
    .sign(client.privateKey);
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'system/*.cruds',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
  const res = await fetch(discovery.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`bench token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

export async function startOurs(
  build: Build,
  patients: number,
  seed: number,
  startups = 1,
  reuse = true,
  log: (m: string) => void = () => undefined,
  auth = false,
): Promise<Target> {
  const shelf = new StoreShelf(patients, seed);
  let loaded = reuse ? shelf.find() : undefined;
  const loadReused = loaded !== undefined;
  if (loaded) {
    log(`  ours: reusing the store loaded ${loaded.loadedAt} (${shelf.dir})`);
  } else {
    shelf.clear();
    const env = { BENCH_DATA_DIR: shelf.dataDir, BENCH_PATIENTS: String(patients), BENCH_SEED: String(seed) };
    const loader = Child.start('ours-load', build.args('bench/targets/ours-load.ts'), env);
    loaded = { ...(await loader.result<Omit<LoadedStore, 'loadedAt'>>('loaded', 60 * 60_000)), loadedAt: new Date().toISOString() };
    await loader.stop();
    shelf.save(loaded);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-bench-'));
  shelf.copyTo(dataDir);
  const client = auth ? await registerBenchClient(build, dataDir) : undefined;

  // Start-up is noisy right after the loader's final checkpoint: start `startups` times, keep the
  // last server running, and report the median.
  const times: Array<{ wall: number; self?: number }> = [];
  let child!: Child;
  let line = '';
  for (let i = 0; i < startups; i++) {
    if (child) await child.stop();
    // No rate limit: the bench is one client sending as fast as it can. No metrics listener: with
    // --interleave several servers run at once, and a fixed port would refuse the second. With --auth, tokens last the whole run.
    const authEnv: Record<string, string> = auth ? { AUTH: 'on', ACCESS_TOKEN_LIFETIME: '86400' } : {};
    child = Child.start('ours', build.args('src/main.ts'), { PORT: '0', METRICS_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', RATE_LIMIT_PER_SECOND: '0', ...authEnv });
    line = await child.waitFor((l) => /listening on http/.test(l), READY_TIMEOUT_MS, 'listening line');
    const readyIn = /ready in (\d+) ms/.exec(line)?.[1];
    times.push({ wall: child.elapsedMs(), self: readyIn ? Number(readyIn) : undefined });
  }
  const byWall = [...times].sort((a, b) => a.wall - b.wall);
  const { wall: startupMs, self: selfReported } = byWall[(byWall.length - 1) >> 1];
  const url = /listening on (http:\/\/\S+)/.exec(line)?.[1] as string;
  const base = url.replace('//localhost:', '//127.0.0.1:');
  if (client) authorize(base, await benchToken(base, client));
  return {
    name: 'ours',
    base,
    child,
    loadMs: loaded.loadMs,
    loaderPeakRssMb: loaded.loaderPeakRssMb,
    loadReused,
    resources: loaded.resources,
    counts: loaded.counts,
    startupMs,
    selfReportedStartupMs: selfReported,
    startupRunsMs: times.map((t) => Math.round(t.wall)),
    rssAfterLoadMb: child.memory().rssMb,
    validation: 'the server’s own pipeline (see probe)',
    cleanup: async () => {
      await child.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startPeer(build: Build, patients: number, seed: number): Promise<Target> {
  const supporting = supportingInfoParameter();
  const child = Child.start('peer', build.args('bench/targets/peer-server.ts'), {
    BENCH_PATIENTS: String(patients),
    BENCH_SEED: String(seed),
    BENCH_EXTRA_SEARCH_PARAMS: JSON.stringify(supporting ? [supporting.file] : []),
  });
  await child.result('listening', READY_TIMEOUT_MS);
  const startupMs = child.elapsedMs();
  const ready = await child.result<{ port: number; base: string; startupMs: number; loadMs: number; counts: Record<string, number>; validation: Record<string, string> }>(
    'ready',
    30 * 60_000,
  );
  return {
    name: 'peer',
    base: `http://127.0.0.1:${ready.port}${ready.base}`,
    child,
    loadMs: ready.loadMs,
    resources: Object.values(ready.counts).reduce((a, b) => a + b, 0),
    counts: ready.counts,
    // Medplum's MemoryRepository has no persistence: its start-up is to listening, before any data.
    startupMs,
    selfReportedStartupMs: ready.startupMs,
    rssAfterLoadMb: child.memory().rssMb,
    validation: `MedicationStatement: ${ready.validation.MedicationStatement ?? 'base only'}`,
    cleanup: () => child.stop(),
  };
}
