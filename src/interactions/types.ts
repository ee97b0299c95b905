/**
 * The protocol-neutral shape of a FHIR interaction. The HTTP layer turns Express requests into a
 * FhirRequest, and batch/transaction processing builds the same thing from Bundle entries, so every
 * interaction is written once and behaves the same whichever way it arrives.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { ServerConfig } from '../config';
import type { ResourceRepository, WrittenVersion } from '../repository/repository';
import type { Filter, StorageSession } from '../storage/port';
import type { SearchAccess, SearchInput, SearchResult } from '../search/service';
import type { OperationRegistry } from './operations/registry';

export interface FhirRequest {
  method: string;
  /** The decoded path segments below the FHIR base, e.g. ["Patient", "123", "_history", "2"]. */
  segments: string[];
  /** Query parameters, in order, as flat strings: `a[$ne]=x` stays the literal name "a[$ne]". */
  query: Array<[string, string]>;
  /** Request headers that matter to FHIR, with lower-case names. */
  headers: Record<string, string | undefined>;
  /** The parsed body: a resource, a JSON Patch array, or undefined. */
  body?: unknown;
  /** What the body is, from its Content-Type. */
  bodyKind?: 'resource' | 'json-patch' | 'form';
  /** Set when the request runs inside a transaction: every storage call joins it. */
  session?: StorageSession;
  /** For a create inside a transaction: the id assigned while resolving placeholders. */
  assignedId?: string;
  /**
   * The body's validation, started before the request was dispatched (Bundle entries are validated
   * together, from before the write lock). Valid for the body as given, up to reference rewriting.
   */
  validated?: Promise<ValidationOutcome>;
}

export interface FhirResponse {
  status: number;
  body?: Resource;
  /**
   * A representation other than FHIR JSON that an operation chose from the Accept header (an HTML
   * page, a PDF, NDJSON lines); when set, the HTTP layer sends it as is instead of `body`.
   */
  representation?: Representation;
  headers: Record<string, string>;
}

export interface Representation {
  /** The media type sent as Content-Type, e.g. "application/pdf" or "text/html; charset=utf-8". */
  contentType: string;
  /** The bytes, whole or as a stream of chunks (sent with back-pressure, so memory stays flat). */
  content: string | Buffer | AsyncIterable<string | Buffer>;
}

/** Who is calling, and with which SMART scopes (DESIGN.md decision 7). */
export interface SecurityContext {
  /** The client id (or "anonymous" when the server runs open). */
  principal: string;
  scopes: string[];
  /** A Group-bound client ("Group/{id}") sees and writes only its members' patient compartments. */
  group?: string;
  /** The caller's network address, for the audit trail. */
  address?: string;
}

/** One letter of a SMART v2 scope: create, read, update, delete, search. */
export type ScopePermission = 'c' | 'r' | 'u' | 'd' | 's';

/** A scope an operation needs, declared when it registers: e.g. { resourceType: 'Task', permission: 'r' }. */
export interface ScopeRequirement {
  /** A resource type, or '*' for "every type" (system/*.x). */
  resourceType: string;
  permission: ScopePermission;
}

/**
 * The one access policy (DESIGN.md decision 7) as interactions, search and operations ask it;
 * src/auth provides the implementation. No other code decides access.
 */
export interface AccessPolicyPort {
  /** Throws a FhirError 403 unless the caller's scopes grant `permission` on `resourceType`. */
  requireScope(security: SecurityContext, resourceType: string, permission: ScopePermission): void;
  /**
   * Whether the caller may `permission` this stored resource: its scopes (granular scope filters
   * included) and, for a Group-bound caller, the Group's patient compartments.
   */
  mayAccess(security: SecurityContext, resource: Resource, permission: ScopePermission): Promise<boolean>;
  /** The ids of the patients a Group-bound caller is restricted to; undefined when unrestricted. */
  patientIds(security: SecurityContext): Promise<ReadonlySet<string> | undefined>;
  /**
   * What the caller may `permission` of one type, as a storage filter that searches, includes,
   * chains and history apply inside their queries: undefined = all of it, 'denied' = none of it.
   */
  restriction(security: SecurityContext, resourceType: string, permission: ScopePermission): Promise<Filter | undefined | 'denied'>;
}

/** Validation as interactions need it; src/validation provides the implementation. */
export interface ValidationPort {
  validate(resource: Resource, options?: ValidationRequest): Promise<ValidationOutcome>;
  /** One promise per item, in order; the implementation may check them in parallel, and settle early ones first. */
  validateEach(items: Array<{ resource: Resource; options?: ValidationRequest }>): Promise<ValidationOutcome>[];
  knownProfiles(): string[];
}

export interface ValidationRequest {
  profiles?: string[];
  mode?: 'create' | 'update' | 'delete';
}

export interface ValidationOutcome {
  valid: boolean;
  issues: OperationOutcomeIssue[];
  /** The MTM profiles the resource was checked against; on success they are added to meta.profile. */
  appliedProfiles: string[];
}

/** Search as interactions need it; src/search provides the implementation. */
export interface SearchPort {
  /** Search parameters supported per resource type, for the CapabilityStatement. */
  supportedParameters(type: string): Array<{ name: string; type: string; definition?: string }>;
  /**
   * Current resources of `type` matching search parameters, at most `limit` of them: the basis of
   * conditional create, update and delete and of conditional references. Throws a FhirError (400)
   * on malformed parameters.
   */
  findMatches(
    type: string,
    query: Array<[string, string]>,
    options: { limit: number; session?: StorageSession; access?: SearchAccess },
  ): Promise<Resource[]>;
  /** A search interaction's page of results (type, system or compartment level). */
  search(input: SearchInput): Promise<SearchResult>;
  /** Ids of the current resources of `type` matching a storage filter, at most `limit`. */
  idsMatching(type: string, filter: Filter, limit: number): Promise<string[]>;
}

/** The repository as interactions and operations use it (per request, through the access policy). */
export type RepositoryPort = Pick<ResourceRepository, 'engine' | 'read' | 'readDocument' | 'vread' | 'create' | 'update' | 'delete' | 'historyPage'>;

/** The audit record of one request (src/audit implements it): what it touched, recorded when it ends. */
export interface RequestAuditPort {
  /** Resources served to the client by reads, history, searches and operations. */
  read(resources: readonly Resource[]): void;
  /** A search: the types it covered (undefined = every type), its parameters and the count of results. */
  searched(types: readonly string[] | undefined, query: Array<[string, string]>, count: number): void;
  /**
   * A write, recorded inside the write's own transaction (so both commit or neither): the request's
   * writes in one transaction are stored as one event per kind of write, just before it commits.
   */
  written(written: WrittenVersion, session: StorageSession): Promise<void>;
  /** How many writes are recorded for `session` so far: a batch entry's savepoint. */
  writesMark(session: StorageSession): number;
  /** Forgets the writes recorded for `session` after `mark`: the batch entry was rolled back. */
  forgetWritesAfter(session: StorageSession, mark: number): void;
  /** The request ended with this HTTP status; `failure` is the server's own message when it failed. */
  finish(status: number, failure?: string): void;
}

export interface AuditPort {
  /** Starts the record of a top-level request; undefined when it cannot touch patient data. */
  begin(security: SecurityContext, req: FhirRequest): RequestAuditPort | undefined;
}

export interface Services {
  config: ServerConfig;
  repository: RepositoryPort;
  validator: ValidationPort;
  search?: SearchPort;
  operations: OperationRegistry;
  access: AccessPolicyPort;
  /** The audit trail; absent, nothing is recorded. */
  audit?: AuditPort;
  /** Canonical URL of each profile we ship, with the resource type it constrains. */
  profileTypes: ReadonlyMap<string, string>;
}

export interface RequestContext {
  services: Services;
  /** Absolute base URL of the FHIR API as the client sees it, without trailing slash. */
  baseUrl: string;
  security: SecurityContext;
  /** The request's audit record, when the request is audited. */
  audit?: RequestAuditPort;
  /**
   * Deletions this request may still make. A batch or transaction shares one budget of
   * MAX_CONDITIONAL_DELETES across all its entries, so a Bundle of many DELETEs cannot walk past it.
   */
  deletes?: { remaining: number };
}

/** Until authentication lands, every caller is anonymous with every scope; this is the one place. */
export const ANONYMOUS: SecurityContext = { principal: 'anonymous', scopes: ['system/*.*', 'user/*.*'] };

/** The policy of a server that runs open (no client registered): everything is allowed. */
export const OPEN_ACCESS: AccessPolicyPort = {
  requireScope: () => undefined,
  mayAccess: async () => true,
  patientIds: async () => undefined,
  restriction: async () => undefined,
};
