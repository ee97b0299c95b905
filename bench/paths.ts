/**
 * The project root, found by walking up from this file: the harness runs both from source (tsx)
 * and compiled into .tmp/bench-build, where __dirname-relative paths would differ.
 */
import fs from 'node:fs';
import path from 'node:path';

function findRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bench'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`No project root above ${__dirname}`);
  }
}

export const ROOT = findRoot();
export const PROFILES_DIR = path.join(ROOT, 'profiles');
