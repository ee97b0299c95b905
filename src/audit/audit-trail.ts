/**
 * The audit trail: AuditEvents for every request that reads or writes patient data.
 * - Writes: a request's writes in one storage transaction are stored as one event per kind of write
 *   (create, update, patch, delete), in that transaction, just before it commits: a write is never
 *   committed without its record, and a 100-entry transaction costs one event, not a hundred.
 * - Successful reads: summarised per client, address and kind of read per window (read-summaries.ts).
 * - Failures: one event per request.
 * Read and failure events are buffered and stored together, at most `flushMs` later; close() stores
 * what is left, so a clean shutdown loses none.
 */
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import type { AuditPort, FhirRequest, RequestAuditPort, SecurityContext } from '../interactions/types';
import type { ResourceRepository, WrittenVersion } from '../repository/repository';
import { patientCompartmentParams } from '../search/compartment';
import type { StorageSession } from '../storage/port';
import { type AuditAction, auditEvent, type AuditSubtype } from './audit-event';
import { MAX_ENTITIES, type ReadFacts, ReadSummaries } from './read-summaries';

export interface AuditTrailOptions {
  flushMs: number;
  /** Buffered events that trigger a store at once. */
  maxBuffered: number;
  onError(error: unknown): void;
}

/** Patient data: a Patient, or a resource of a type that can be in a Patient compartment. AuditEvents are the trail itself. */
export function isPatientData(type: string): boolean {
  return type !== 'AuditEvent' && (type === 'Patient' || patientCompartmentParams(type) !== undefined);
}

interface Interaction {
  subtype: AuditSubtype;
  action: AuditAction;
  /** The resource type the URL names, if any. */
  type?: string;
}

/** The interaction a top-level request is, by method and path (FHIR http.html). undefined: nothing to audit. */
export function interactionOf(req: FhirRequest): Interaction | undefined {
  const [first, second, third, fourth] = req.segments;
  const n = req.segments.length;
  if (n === 0) {
    if (req.method === 'GET') return { subtype: 'search-system', action: 'E' };
    const type = (req.body as { type?: string } | undefined)?.type;
    return { subtype: type === 'transaction' ? 'transaction' : 'batch', action: 'E' };
  }
  if (first === 'metadata') return undefined;
  if (first.startsWith('$')) return { subtype: 'operation', action: 'E' };
  if (first === '_history') return { subtype: 'history-system', action: 'R' };
  if (first === '_search') return { subtype: 'search-system', action: 'E' };
  const type = first;
  if (n === 1) {
    if (req.method === 'POST') return { subtype: 'create', action: 'C', type };
    if (req.method === 'PUT') return { subtype: 'update', action: 'U', type };
    if (req.method === 'DELETE') return { subtype: 'delete', action: 'D', type };
    return { subtype: 'search-type', action: 'E', type };
  }
  if (second === '_search') return { subtype: 'search-type', action: 'E', type };
  if (second === '_history') return { subtype: 'history-type', action: 'R', type };
  if (second.startsWith('$') || third?.startsWith('$')) return { subtype: 'operation', action: 'E', type };
  if (n === 2) {
    if (req.method === 'PUT') return { subtype: 'update', action: 'U', type };
    if (req.method === 'PATCH') return { subtype: 'patch', action: 'U', type };
    if (req.method === 'DELETE') return { subtype: 'delete', action: 'D', type };
    return { subtype: 'read', action: 'R', type };
  }
  if (third === '_history') return fourth ? { subtype: 'vread', action: 'R', type } : { subtype: 'history-instance', action: 'R', type };
  // Patient/{id}/{type}: a compartment search, always about that patient.
  return { subtype: 'search-type', action: 'E', type };
}

export class AuditTrail implements AuditPort {
  private buffer: AuditEvent[] = [];
  private readonly reads = new ReadSummaries();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: ResourceRepository,
    private readonly options: AuditTrailOptions,
  ) {}

  /** The audit record of one request; undefined when the request cannot touch patient data. */
  begin(security: SecurityContext, req: FhirRequest): RequestAudit | undefined {
    const interaction = interactionOf(req);
    if (!interaction) return undefined;
    if (interaction.type && !isPatientData(interaction.type)) return undefined;
    return new RequestAudit(this, security, req, interaction);
  }

  /**
   * "Patient/id" of the patients a resource is about: itself, or the patients its top-level
   * references name (subject, patient, for, beneficiary, ...). A shallow look on purpose: it runs for
   * every resource served, and re-indexing each one showed as most of a search's time.
   */
  patientsOf(resource: Resource): string[] {
    if (resource.resourceType === 'Patient') return [`Patient/${resource.id}`];
    const patients: string[] = [];
    for (const value of Object.values(resource)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        const reference = (item as { reference?: unknown } | null)?.reference;
        if (typeof reference === 'string' && reference.startsWith('Patient/') && !patients.includes(reference)) patients.push(reference);
      }
    }
    return patients;
  }

  /** Stores write events in the writes' transaction. */
  async storeNow(events: readonly AuditEvent[], session: StorageSession): Promise<void> {
    for (const event of events) await this.repository.create(event, { session });
  }

  /** A successful read, into its window's summary. */
  read(facts: ReadFacts): void {
    const closed = this.reads.add(facts);
    if (closed) this.buffer.push(closed);
    this.scheduleFlush();
  }

  /** A failed request's event, stored with the next flush. */
  buffered(event: AuditEvent): void {
    this.buffer.push(event);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.buffer.length + this.reads.size >= this.options.maxBuffered) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
      this.timer.unref();
    }
  }

  /**
   * Stores every buffered event and open summary, each in a transaction of its own: a summary names
   * up to MAX_ENTITIES resources, and one transaction holding a window's worth of them (tens of
   * MB with their key rows, at a few thousand searches a second) made memory peak ~200 MB higher
   * while it was committed. Events not stored stay buffered for the next try.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(async () => {
      const events = [...this.buffer, ...this.reads.close()];
      this.buffer = [];
      for (let i = 0; i < events.length; i++) {
        try {
          await this.repository.create(events[i]);
        } catch (error) {
          this.buffer = [...events.slice(i), ...this.buffer];
          this.options.onError(error);
          return;
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/** One kind of write a request made in one transaction: what its event will name. */
interface WriteGroup {
  subtype: AuditSubtype;
  action: AuditAction;
  resources: string[];
  patients: Set<string>;
}

/** What one request touched, collected as it runs and recorded when it ends. */
export class RequestAudit implements RequestAuditPort {
  private readonly start = new Date();
  private readonly resources = new Set<string>();
  private readonly patients = new Set<string>();
  private readonly queries: Array<{ text: string; count: number }> = [];
  private readsPatientData = false;
  /** The writes recorded in each open transaction, in order; stored by its beforeCommit hook. */
  private readonly writes = new Map<StorageSession, WrittenVersion[]>();

  constructor(
    private readonly trail: AuditTrail,
    private readonly security: SecurityContext,
    private readonly req: FhirRequest,
    private readonly interaction: Interaction,
  ) {}

  /** Resources served by a read, vread, history page, search or operation. */
  read(resources: readonly Resource[]): void {
    for (const resource of resources) {
      if (!isPatientData(resource.resourceType)) continue;
      this.readsPatientData = true;
      if (this.resources.size < MAX_ENTITIES) this.resources.add(`${resource.resourceType}/${resource.id}`);
      for (const p of this.trail.patientsOf(resource)) if (this.patients.size < MAX_ENTITIES) this.patients.add(p);
    }
  }

  /** A search of patient data: its query and the count of its results. */
  searched(types: readonly string[] | undefined, query: Array<[string, string]>, count: number): void {
    if (types && !types.some(isPatientData)) return;
    this.readsPatientData = true;
    const text = `${this.req.segments.join('/')}${query.length ? `?${new URLSearchParams(query).toString()}` : ''}`;
    this.queries.push({ text, count });
  }

  /** A write: kept with the transaction's others, stored when the transaction is about to commit. */
  async written(written: WrittenVersion, session: StorageSession): Promise<void> {
    if (!isPatientData(written.type)) return;
    let list = this.writes.get(session);
    if (!list) {
      this.writes.set(session, (list = []));
      session.beforeCommit(() => this.storeWrites(session));
    }
    list.push(written);
  }

  writesMark(session: StorageSession): number {
    return this.writes.get(session)?.length ?? 0;
  }

  forgetWritesAfter(session: StorageSession, mark: number): void {
    this.writes.get(session)?.splice(mark);
  }

  /** One event per kind of write (at most MAX_ENTITIES resources each), in the transaction. */
  private async storeWrites(session: StorageSession): Promise<void> {
    const list = this.writes.get(session) ?? [];
    this.writes.delete(session);
    const groups = new Map<string, WriteGroup>();
    const events: AuditEvent[] = [];
    const end = new Date();
    const close = (group: WriteGroup) =>
      events.push(
        auditEvent({
          subtype: group.subtype,
          action: group.action,
          status: group.action === 'C' ? 201 : 200,
          start: this.start,
          end,
          client: this.security.principal,
          address: this.security.address,
          resources: group.resources,
          patients: [...group.patients],
        }),
      );
    for (const written of list) {
      const action: AuditAction = written.method === 'DELETE' ? 'D' : written.vid === 1 ? 'C' : 'U';
      const subtype: AuditSubtype = action === 'C' ? 'create' : action === 'D' ? 'delete' : written.method === 'PATCH' ? 'patch' : 'update';
      let group = groups.get(subtype);
      const patients = written.resource ? this.trail.patientsOf(written.resource) : [];
      if (group && (group.resources.length >= MAX_ENTITIES || group.patients.size + patients.length > MAX_ENTITIES)) {
        close(group);
        group = undefined;
      }
      if (!group) groups.set(subtype, (group = { subtype, action, resources: [], patients: new Set() }));
      group.resources.push(`${written.type}/${written.id}`);
      for (const p of patients) group.patients.add(p);
    }
    for (const group of groups.values()) close(group);
    await this.trail.storeNow(events, session);
  }

  /** The request ended with `status`; `failure` is the server's message when it failed. */
  finish(status: number, failure?: string): void {
    const { subtype, action } = this.interaction;
    const failed = status >= 400;
    const isWrite = action === 'C' || action === 'U' || action === 'D';
    // A successful write has its record already (in its commit); a read of nothing patient-related needs none.
    if (!failed && (isWrite || !this.readsPatientData)) return;
    const facts = {
      subtype,
      action,
      status,
      start: this.start,
      end: new Date(),
      client: this.security.principal,
      address: this.security.address,
      resources: [...this.resources],
      patients: [...this.patients],
      queries: this.queries,
    };
    if (failed) this.trail.buffered(auditEvent({ ...facts, failure }));
    else this.trail.read(facts);
  }
}
