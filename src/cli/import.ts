/**
 * `npm run import -- <files or folders>`: loads NDJSON files and Bundles into the configured store
 * (DATA_DIR or MONGODB_URI, as the server would use), through the API's validation and indexing.
 * Failures go to an NDJSON file of OperationOutcomes naming file and line; the import carries on,
 * and exits 0 only when everything loaded. Run again after an interruption: what is stored is skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import type { RequestContext } from '../interactions/types';
import { createLogger } from '../logger';
import { buildServer } from '../server';
import { ImportLoader, isPlainResource, type ItemResult } from './import/loader';
import { type ImportItem, listSourceFiles, readItems, type SourceFile } from './import/sources';
import { createProgress, type Progress } from './progress';

const HELP = `Usage: npm run import -- [options] <file or folder>...

Loads FHIR resources into the store the server is configured for (DATA_DIR, or MONGODB_URI),
validating and indexing each exactly as the API does.

Inputs (folders are walked recursively):
  *.ndjson, *.jsonl   one resource per line (the Bulk Data format)
  *.json              one Bundle (transaction, batch or collection) or one resource

Options:
  --errors <file>       where failures are written, one OperationOutcome per line naming file and
                        line (default: import-errors.ndjson)
  --concurrency <n>     transactions of 100 resources (or Bundles) in flight at once (default: 4)
  -h, --help            this help

Resources keep their ids; one without an id gets an id derived from its content, so running the
same import again (after an interruption, say) skips what is already stored instead of duplicating
it. With the embedded engine, stop the server first: two processes must not share one DATA_DIR.
Exit code: 0 when everything loaded, 1 when something failed, 2 for a usage error.`;

interface Totals {
  loaded: number;
  unchanged: number;
  failed: number;
}

/** Plain resources travel in transactions of this many; Bundles go one at a time. */
const CHUNK = 100;

async function importFile(file: SourceFile, loader: ImportLoader, concurrency: number, onResult: (r: ItemResult, bytes: number) => void): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const start = async (work: Promise<ItemResult>, bytes: number) => {
    const tracked = work.then((result) => onResult(result, bytes)).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  };
  let chunk: ImportItem[] = [];
  for await (const item of readItems(file)) {
    if (isPlainResource(item.json)) {
      chunk.push(item);
      if (chunk.length >= CHUNK) {
        await start(loader.loadMany(chunk), item.bytesRead);
        chunk = [];
      }
    } else {
      await start(loader.load(item), item.bytesRead);
    }
  }
  if (chunk.length > 0) await start(loader.loadMany(chunk), chunk[chunk.length - 1].bytesRead);
  await Promise.all(inFlight);
}

async function run(paths: string[], errorsPath: string, concurrency: number): Promise<number> {
  // The failures file may sit in a folder being imported (a second run, say): it is output, not input.
  const files = listSourceFiles(paths).filter((f) => path.resolve(f.path) !== path.resolve(errorsPath));
  const totalBytes = files.reduce((sum, f) => sum + f.bytes, 0);
  const config = loadConfig();
  const server = await buildServer(config, createLogger('warn', { format: config.logFormat }));
  const ctx: RequestContext = {
    services: server.services,
    baseUrl: config.publicBaseUrl ?? `http://localhost:${config.port}${config.basePath}`,
    security: { principal: 'import-cli', scopes: ['system/*.*'] },
  };
  const loader = new ImportLoader(ctx);
  const totals: Totals = { loaded: 0, unchanged: 0, failed: 0 };
  let errors: fs.WriteStream | undefined;
  const progress: Progress = createProgress(totalBytes, 'resources');
  const started = Date.now();
  let bytesBefore = 0;
  try {
    for (const file of files) {
      const fileStarted = Date.now();
      const fileCounts = { done: 0, failed: 0 };
      let bytes = 0;
      await importFile(file, loader, concurrency, (result, bytesRead) => {
        totals.loaded += result.loaded;
        totals.unchanged += result.unchanged;
        totals.failed += result.failures.length;
        fileCounts.done += result.loaded + result.unchanged;
        fileCounts.failed += result.failures.length;
        for (const outcome of result.failures) (errors ??= fs.createWriteStream(errorsPath)).write(`${JSON.stringify(outcome)}\n`);
        bytes = Math.max(bytes, bytesRead);
        progress.update(bytesBefore + bytes, { done: totals.loaded + totals.unchanged, failed: totals.failed });
      });
      bytesBefore += file.bytes;
      progress.finishUnit(file.path, fileCounts, (Date.now() - fileStarted) / 1000);
    }
  } finally {
    progress.stop();
    if (errors) await new Promise((resolve) => errors?.end(resolve));
    await server.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const done = totals.loaded + totals.unchanged;
  console.log(
    `Imported ${totals.loaded} resources (${totals.unchanged} already stored, ${totals.failed} failed) from ${files.length} files ` +
      `in ${seconds.toFixed(1)} s, ${(done / Math.max(seconds, 0.001)).toFixed(0)} resources/s.` +
      (totals.failed > 0 ? ` Failures are in ${errorsPath}.` : ''),
  );
  return totals.failed > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        errors: { type: 'string', default: 'import-errors.ndjson' },
        concurrency: { type: 'string', default: '4' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const concurrency = Number(values.concurrency);
  if (positionals.length === 0 || !Number.isInteger(concurrency) || concurrency < 1) {
    console.error(HELP);
    return 2;
  }
  const missing = positionals.filter((p) => !fs.existsSync(p));
  if (missing.length > 0) {
    console.error(`Not found: ${missing.join(', ')}`);
    return 2;
  }
  return run(positionals, values.errors as string, concurrency);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`Import failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
