/**
 * Where the conformance resources live on disk: `profiles/` (what the server publishes) and
 * `profiles/src/` (the differentials a person edits). Found from the repository root, so the
 * same code works from src/ under tsx and from dist/ after a build.
 */
import fs from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'profiles'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No profiles/ directory above ${start}`);
    dir = parent;
  }
}

export const REPO_ROOT = findRoot(__dirname);
export const PROFILES_DIR = path.join(REPO_ROOT, 'profiles');
export const PROFILE_SOURCES_DIR = path.join(PROFILES_DIR, 'src');

/** The JSON files directly in a directory, sorted by name. */
export function jsonFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function readJsonFile<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** The one serialisation of generated files: two-space JSON with a final newline. */
export function serialise(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
