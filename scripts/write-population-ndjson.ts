/**
 * Writes the bench population as NDJSON, one file per resource type, for measuring the importer:
 *   npx tsx scripts/write-population-ndjson.ts <folder> [resources=100000]
 *   /usr/bin/time -v npm run import -- <folder>
 */
import fs from 'node:fs';
import path from 'node:path';
import { patientsForResources, population } from '../bench/population/population';

const [folder, size = '100000'] = process.argv.slice(2);
if (!folder) {
  console.error('Usage: npx tsx scripts/write-population-ndjson.ts <folder> [resources=100000]');
  process.exit(2);
}
fs.mkdirSync(folder, { recursive: true });
const files = new Map<string, fs.WriteStream>();
let count = 0;
for (const resource of population(patientsForResources(Number(size))).resources()) {
  let out = files.get(resource.resourceType);
  if (!out) files.set(resource.resourceType, (out = fs.createWriteStream(path.join(folder, `${resource.resourceType}.ndjson`))));
  out.write(`${JSON.stringify(resource)}\n`);
  count++;
}
for (const out of files.values()) out.end();
console.log(`Wrote ${count} resources of ${files.size} types to ${folder}`);
