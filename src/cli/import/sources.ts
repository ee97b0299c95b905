/**
 * What an import reads: NDJSON files (one resource a line, the Bulk Data format) and JSON files
 * holding one Bundle (transaction, batch or collection) or one resource. Each item carries where it
 * came from (file and line), so that a failure can be reported against it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export interface SourceFile {
  path: string;
  bytes: number;
}

/** One unit of work: a resource to store, or a batch/transaction Bundle to process whole. */
export interface ImportItem {
  file: string;
  line: number;
  /** Bytes of the file read once this item is done (for progress and ETA). */
  bytesRead: number;
  /** The parsed JSON, or undefined when the line is not JSON (then `parseError` says why). */
  json?: unknown;
  parseError?: string;
  /** For items without an id: a stable id derived from their content, so a re-run finds them. */
  contentId: string;
}

const IMPORTABLE = /\.(ndjson|jsonl|json)$/i;

/** The files named, with folders walked recursively (in name order, so runs are repeatable). */
export function listSourceFiles(paths: string[]): SourceFile[] {
  const files: SourceFile[] = [];
  const visit = (p: string) => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) {
        const child = path.join(p, name);
        if (fs.statSync(child).isDirectory() || IMPORTABLE.test(name)) visit(child);
      }
    } else {
      files.push({ path: p, bytes: stat.size });
    }
  };
  for (const p of paths) visit(p);
  return files;
}

/** A stable id from content: 32 hex characters of SHA-256, a valid FHIR id. */
export function contentId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

function parse(text: string): { json?: unknown; parseError?: string } {
  try {
    return { json: JSON.parse(text) };
  } catch (error) {
    return { parseError: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Streams the items of one file: a line at a time for NDJSON, the whole document for .json. */
export async function* readItems(file: SourceFile): AsyncGenerator<ImportItem> {
  if (/\.json$/i.test(file.path)) {
    const text = fs.readFileSync(file.path, 'utf8');
    yield { file: file.path, line: 1, bytesRead: file.bytes, contentId: contentId(text), ...parse(text) };
    return;
  }
  const input = fs.createReadStream(file.path, { encoding: 'utf8' });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  let bytesRead = 0;
  for await (const text of lines) {
    line++;
    bytesRead += Buffer.byteLength(text) + 1;
    if (text.trim() === '') continue;
    yield { file: file.path, line, bytesRead: Math.min(bytesRead, file.bytes), contentId: contentId(text), ...parse(text) };
  }
}
