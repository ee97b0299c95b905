/**
 * The shape of what is stored: one collection of current versions per resource type, and one
 * append-only collection of every version ever written.
 */
import type { Resource } from '@medplum/fhirtypes';

export const HISTORY_COLLECTION = 'history';

/**
 * The history fields the embedded engine keeps as SQL columns, because history queries select on them,
 * and the indexes that serve a history page (newest first, after a (ts, _id) cursor) without sorting:
 * type level, then system level.
 */
export const HISTORY_LAYOUT = {
  columns: ['type', 'rid', 'ts'],
  indexes: [
    ['type', 'ts', '_id'],
    ['ts', '_id'],
  ],
} as const;

/** The current version of one resource, in the collection named after its type. */
export interface ResourceDocument {
  /** The resource id. */
  _id: string;
  /** meta.versionId, as a number so that compare-and-set and ordering are numeric. */
  vid: number;
  /** meta.lastUpdated in epoch milliseconds (never compared as an ISO string). */
  ts: number;
  /** Present on a tombstone: the resource was deleted; read answers 410 and versions continue. */
  deleted?: true;
  /** The resource as served, meta included. Absent on a tombstone. */
  resource?: Resource;
  /** Search values computed at write time (see src/search); the shape belongs to the search layer. */
  sp?: unknown;
  /** Keys the search layer sorts on, also computed at write time. */
  sk?: Record<string, unknown>;
}

export type HistoryMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One version of one resource. `_id` is "Type/id/vid", which makes each version unique. */
export interface HistoryDocument {
  _id: string;
  type: string;
  rid: string;
  vid: number;
  ts: number;
  method: HistoryMethod;
  resource?: Resource;
}

export function historyId(type: string, id: string, vid: number): string {
  return `${type}/${id}/${vid}`;
}

/** Registered SMART clients (src/auth): on disk in the embedded engine, so a running server sees `npm run client` changes. */
export const CLIENTS_COLLECTION = 'auth_clients';
/** Client-assertion jtis seen, until they expire (src/auth); `exp` is a column for the purge. */
export const JTI_COLLECTION = 'auth_jti';
export const JTI_LAYOUT = { columns: ['exp'] } as const;
