/**
 * Compiles the project (src, bench) with tsc into .tmp/bench-build, so the servers under test run
 * as plain JavaScript, exactly as `npm start` runs them: start-up is then measured without a
 * TypeScript loader in the way. Type errors (e.g. other work in progress) do not stop emission.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { ROOT } from './paths';

export { ROOT };
const OUT = path.join(ROOT, '.tmp', 'bench-build');

export interface Build {
  /** Arguments for `node` that run a project file (path relative to the root, .ts), compiled or via tsx. */
  args(file: string): string[];
  compiled: boolean;
  ms: number;
  warning?: string;
}

export function build(): Build {
  const started = performance.now();
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', OUT], { cwd: ROOT, encoding: 'utf8' });
  const ms = performance.now() - started;
  const compiled = fs.existsSync(path.join(OUT, 'src', 'main.js')) && fs.existsSync(path.join(OUT, 'bench', 'targets', 'peer-server.js'));
  const warning =
    result.status === 0
      ? undefined
      : `tsc reported errors (${(result.stdout ?? '').split('\n').filter((l) => l.includes('error TS')).length}); ${compiled ? 'using its output anyway' : 'falling back to tsx'}`;
  return {
    compiled,
    ms,
    warning,
    args: (file) => (compiled ? [path.join(OUT, file.replace(/\.ts$/, '.js'))] : ['--import', 'tsx', path.join(ROOT, file)]),
  };
}
