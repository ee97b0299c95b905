/**
 * The registered SMART Backend Services clients: their public keys (a JWKS, several keys allowed so
 * that a client can rotate), the scopes they may be granted and the Group they are bound to. Stored
 * in the database, in a collection of its own; never served as FHIR resources.
 */
import crypto from 'node:crypto';
import { importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { CLIENTS_COLLECTION } from '../storage/collections';
import type { DocumentCollection, StorageEngine } from '../storage/port';
import { isGrantableScope } from './scope-grant';

/** Algorithms a client may sign its assertions with (SMART Backend Services: RS384 and ES384). */
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'] as const;

export interface ClientRecord {
  /** The client id: `iss` and `sub` of its assertions. */
  _id: string;
  name: string;
  jwks: JSONWebKeySet;
  /** Space-separated SMART scopes this client may be granted. */
  scope: string;
  /** "Group/{id}": the client sees and writes only these patients' compartments. */
  group?: string;
  created: string;
  updated: string;
}

export interface NewClient {
  name: string;
  jwks: unknown;
  scope: string;
  group?: string;
  /** Chosen by the registry when absent. */
  id?: string;
}

/** A registration that cannot be accepted; the CLI prints the message. */
export class ClientRegistrationError extends Error {}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const GROUP_REFERENCE = /^Group\/[A-Za-z0-9\-.]{1,64}$/;

/** Checks a JWKS as registered: public keys only, each with a kid, usable with RS384 or ES384. */
export async function checkJwks(value: unknown): Promise<JSONWebKeySet> {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ClientRegistrationError('The JWKS must be an object with a non-empty "keys" array');
  const kids = new Set<string>();
  for (const key of keys as JWK[]) {
    if (typeof key !== 'object' || key === null) throw new ClientRegistrationError('Every JWKS entry must be a JSON object');
    if (typeof key.kid !== 'string' || key.kid === '') throw new ClientRegistrationError('Every key needs a "kid": assertions name their key by it');
    if (kids.has(key.kid)) throw new ClientRegistrationError(`Two keys share the kid "${key.kid}"`);
    kids.add(key.kid);
    const secret = PRIVATE_MEMBERS.find((m) => m in key);
    if (secret) throw new ClientRegistrationError(`Key "${key.kid}" holds private material ("${secret}"); register the public keys only`);
    const alg = key.alg ?? (key.kty === 'RSA' ? 'RS384' : key.kty === 'EC' && key.crv === 'P-384' ? 'ES384' : undefined);
    if (!alg || !(ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ClientRegistrationError(`Key "${key.kid}" is not an RS384 (RSA) or ES384 (EC P-384) key`);
    }
    try {
      await importJWK(key, alg);
    } catch (error) {
      throw new ClientRegistrationError(`Key "${key.kid}" is not a usable ${alg} key: ${(error as Error).message}`);
    }
  }
  return { keys: keys as JWK[] };
}

function checkScope(scope: string): string {
  const scopes = scope.split(/\s+/).filter(Boolean);
  if (scopes.length === 0) throw new ClientRegistrationError('A client needs at least one scope, e.g. "system/*.rs"');
  for (const s of scopes) {
    if (!isGrantableScope(s)) throw new ClientRegistrationError(`"${s}" is not a SMART system scope (system/<Type|*>.<cruds|read|write|*>[?param=value])`);
  }
  return scopes.join(' ');
}

export class ClientRegistry {
  private readonly collection: DocumentCollection<ClientRecord>;
  /** Whether any client is registered, cached briefly: asked on every request while the server runs open. */
  private anyCache?: { value: boolean; until: number };

  constructor(engine: StorageEngine, private readonly cacheMs = 2000) {
    this.collection = engine.collection<ClientRecord>(CLIENTS_COLLECTION);
  }

  async add(client: NewClient): Promise<ClientRecord> {
    const name = client.name.trim();
    if (!name) throw new ClientRegistrationError('A client needs a name');
    if (client.group !== undefined && !GROUP_REFERENCE.test(client.group)) {
      throw new ClientRegistrationError(`The group must be a reference like Group/123, got "${client.group}"`);
    }
    const now = new Date().toISOString();
    const record: ClientRecord = {
      _id: client.id ?? crypto.randomUUID(),
      name,
      jwks: await checkJwks(client.jwks),
      scope: checkScope(client.scope),
      created: now,
      updated: now,
    };
    if (client.group) record.group = client.group;
    await this.collection.insertOne(record);
    this.anyCache = undefined;
    return record;
  }

  get(id: string): Promise<ClientRecord | null> {
    return this.collection.findOne({ _id: id });
  }

  async list(): Promise<ClientRecord[]> {
    const all = await this.collection.find({});
    return all.sort((a, b) => a.created.localeCompare(b.created));
  }

  async remove(id: string): Promise<boolean> {
    const { deletedCount } = await this.collection.deleteOne({ _id: id });
    this.anyCache = undefined;
    return deletedCount === 1;
  }

  /** Replaces the client's keys (list the old and new keys together to rotate without a gap). */
  async rotate(id: string, jwks: unknown): Promise<ClientRecord> {
    const existing = await this.get(id);
    if (!existing) throw new ClientRegistrationError(`No client with id ${id}`);
    const updated: ClientRecord = { ...existing, jwks: await checkJwks(jwks), updated: new Date().toISOString() };
    await this.collection.replaceOne({ _id: id }, updated);
    return updated;
  }

  /** Whether at least one client is registered (another process may register one: cached for a moment). */
  async any(): Promise<boolean> {
    const now = Date.now();
    if (this.anyCache && now < this.anyCache.until) return this.anyCache.value;
    const value = (await this.collection.countDocuments({})) > 0;
    this.anyCache = { value, until: now + this.cacheMs };
    return value;
  }
}
