/**
 * `npm run export -- <folder> [--type …] [--since …]`: writes the current version of every stored
 * resource (or of the types named, changed since an instant) as NDJSON, one file per type, in the
 * Bulk Data format. It reads the store directly, a page at a time, so memory stays flat. An
 * operator's tool, like a database dump: it reads what the store holds, without client scopes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { isKnownResourceType, resourceTypes } from '../fhir/definitions';
import { createLogger } from '../logger';
import type { Filter } from '../storage/port';
import { buildServer } from '../server';
import { createProgress } from './progress';

const HELP = `Usage: npm run export -- [options] <folder>

Writes the current version of each stored resource as NDJSON, one file per type (Patient.ndjson,
...), from the store the server is configured for (DATA_DIR, or MONGODB_URI).

Options:
  --type <T1,T2,...>   only these resource types (default: every type that has resources)
  --since <instant>    only resources changed at or after this instant, e.g. 2026-01-01T00:00:00Z
  -h, --help           this help

Exit code: 0 on success, 1 on failure, 2 for a usage error.`;

const PAGE = 1000;

async function exportType(type: string, file: string, filter: Filter, find: (f: Filter) => Promise<Array<{ _id: string; resource?: unknown }>>, onPage: (n: number) => void): Promise<number> {
  const out = fs.createWriteStream(file);
  let written = 0;
  let after: string | undefined;
  for (;;) {
    const page = await find(after === undefined ? filter : { $and: [filter, { _id: { $gt: after } }] });
    for (const doc of page) {
      if (!out.write(`${JSON.stringify(doc.resource)}\n`)) await once(out, 'drain');
    }
    written += page.length;
    onPage(page.length);
    if (page.length < PAGE) break;
    after = page[page.length - 1]._id;
  }
  await new Promise((resolve) => out.end(resolve));
  return written;
}

async function run(folder: string, types: string[] | undefined, since: number | undefined): Promise<number> {
  const config = loadConfig();
  // Export validates nothing: no validation workers to start.
  const server = await buildServer({ ...config, validation: { ...config.validation, workers: 0 } }, createLogger('warn', { format: config.logFormat }));
  const started = Date.now();
  try {
    fs.mkdirSync(folder, { recursive: true });
    const filter: Filter = since === undefined ? { deleted: { $exists: false } } : { deleted: { $exists: false }, ts: { $gte: since } };
    const counts = new Map<string, number>();
    for (const type of types ?? resourceTypes()) {
      const count = await (await server.repository.collection(type)).countDocuments(filter);
      if (count > 0) counts.set(type, count);
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const progress = createProgress(total, 'resources');
    let done = 0;
    for (const [type, expected] of counts) {
      const collection = await server.repository.collection(type);
      const typeStarted = Date.now();
      const written = await exportType(
        type,
        path.join(folder, `${type}.ndjson`),
        filter,
        (f) => collection.find(f, { sort: { _id: 1 }, limit: PAGE, projection: { _id: 1, resource: 1 } }),
        (n) => progress.update((done += n), { done, failed: 0 }),
      );
      progress.finishUnit(`${type}.ndjson`, { done: written, failed: 0 }, (Date.now() - typeStarted) / 1000);
      if (written !== expected) counts.set(type, written);
    }
    progress.stop();
    const seconds = (Date.now() - started) / 1000;
    console.log(`Exported ${done} resources of ${counts.size} types to ${folder} in ${seconds.toFixed(1)} s, ${(done / Math.max(seconds, 0.001)).toFixed(0)} resources/s.`);
    return 0;
  } finally {
    await server.close();
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { type: { type: 'string' }, since: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(HELP);
    return 2;
  }
  const types = values.type?.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  const unknown = types?.filter((t) => !isKnownResourceType(t)) ?? [];
  if (unknown.length > 0) {
    console.error(`Unknown resource types: ${unknown.join(', ')}`);
    return 2;
  }
  const since = values.since === undefined ? undefined : Date.parse(values.since);
  if (since !== undefined && Number.isNaN(since)) {
    console.error(`--since must be an instant such as 2026-01-01T00:00:00Z, got "${values.since}"`);
    return 2;
  }
  return run(positionals[0], types, since);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`Export failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
