/** Reading the example files the tests check. */
import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';

export const EXAMPLES_DIR = path.resolve(__dirname, '../../examples');

export function readExample<T = Resource>(relative: string): T {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, relative), 'utf8')) as T;
}

/** Every example resource file (JSON, not the invalid-variant manifest), relative to examples/. */
export function exampleFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json') && !full.includes(`${path.sep}invalid${path.sep}`)) found.push(path.relative(EXAMPLES_DIR, full));
    }
  };
  walk(EXAMPLES_DIR);
  return found.sort();
}
