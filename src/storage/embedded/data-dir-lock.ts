/**
 * One process at a time on an embedded store. The engine decides compare-and-set, the history clock
 * and the document cache in its own memory (embedded-engine.ts), so a second process writing the same
 * file (a second server, or `npm run import` beside a running one) would commit versions built on what
 * it last saw: lost updates, two version 2s of one resource. The second process is refused instead.
 *
 * The lock is an exclusive SQLite lock held on a small file of its own for as long as the engine is
 * open. It is an OS file lock (fcntl), so it goes with the process however that ends, `kill -9`
 * included: there is no stale lock file to clean up after a crash.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE = 'mtm-fhir.lock';

/** Another process has the store open. */
export class DataDirInUseError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `The embedded store in ${dataDir} is open in another process (a running server, npm run import or npm run export). ` +
        'Stop that process first, or set DATA_DIR to another directory.',
    );
    this.name = 'DataDirInUseError';
  }
}

export class DataDirLock {
  private constructor(private readonly file: Database.Database) {}

  /** Takes the store's lock at once, or throws DataDirInUseError; never waits for it. */
  static acquire(dataDir: string): DataDirLock {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = new Database(path.join(dataDir, LOCK_FILE), { timeout: 0 });
    try {
      file.pragma('locking_mode = EXCLUSIVE');
      file.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      file.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirInUseError(dataDir);
      throw error;
    }
    return new DataDirLock(file);
  }

  release(): void {
    if (this.file.open) this.file.close();
  }
}
