/**
 * Loaded stores kept between bench runs (`.tmp/bench-stores/`, git-ignored): loading a million
 * resources takes minutes, and every run would load exactly the same data. A store is reused when
 * it was loaded from the same population (same patients, seed and generator code), with the same
 * search index version and the same storage format; each run works on a copy, because the write
 * workloads change it. `--fresh-store` loads anew.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mtmSearchParameters } from '../../src/conformance';
import { createSearchIndex } from '../../src/search';
import { STORAGE_FORMAT } from '../../src/storage/embedded/sqlite-file';
import { ROOT } from '../paths';

const STORES = path.join(ROOT, '.tmp', 'bench-stores');

export interface LoadedStore {
  loadMs: number;
  resources: number;
  counts: Record<string, number>;
  /** The loader's peak resident set, in MB. */
  loaderPeakRssMb?: number;
  loadedAt: string;
}

/** What decides whether a stored population is the one this run would load. */
function storeKey(patients: number, seed: number): string {
  const hash = createHash('sha256');
  const population = path.join(ROOT, 'bench', 'population');
  for (const file of fs.readdirSync(population).sort()) hash.update(fs.readFileSync(path.join(population, file)));
  hash.update(createSearchIndex(mtmSearchParameters()).indexer.version);
  hash.update(STORAGE_FORMAT);
  return `${patients}-${seed}-${hash.digest('base64url').slice(0, 12)}`;
}

export class StoreShelf {
  readonly dir: string;
  private readonly manifest: string;

  constructor(
    private readonly patients: number,
    seed: number,
  ) {
    this.dir = path.join(STORES, storeKey(patients, seed));
    this.manifest = path.join(this.dir, 'loaded.json');
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** The stored load, if a complete one is on the shelf. */
  find(): LoadedStore | undefined {
    return fs.existsSync(this.manifest) ? (JSON.parse(fs.readFileSync(this.manifest, 'utf8')) as LoadedStore) : undefined;
  }

  /**
   * Empties the shelf's place for this population, and drops older versions of the same size, keeping
   * the most recently loaded one: two trees with different storage formats (an A/B of the engine) can
   * then bench one after the other without reloading each other's stores.
   */
  clear(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    if (fs.existsSync(STORES)) {
      const others = fs
        .readdirSync(STORES)
        .filter((other) => other.startsWith(`${this.patients}-`))
        .map((other) => ({ dir: path.join(STORES, other), loadedAt: loadedAt(path.join(STORES, other, 'loaded.json')) }))
        .sort((a, b) => b.loadedAt - a.loadedAt);
      for (const other of others.slice(1)) fs.rmSync(other.dir, { recursive: true, force: true });
    }
    fs.mkdirSync(this.dataDir, { recursive: true });
  }

  /** Marks the load complete: only then is the store reused. */
  save(loaded: LoadedStore): void {
    fs.writeFileSync(this.manifest, JSON.stringify(loaded));
  }

  /** A copy of the stored data for one run to change. */
  copyTo(target: string): void {
    fs.cpSync(this.dataDir, target, { recursive: true });
  }
}

/** When a shelved store finished loading (0 for an incomplete one, dropped first). */
function loadedAt(manifest: string): number {
  if (!fs.existsSync(manifest)) return 0;
  return fs.statSync(manifest).mtimeMs;
}
