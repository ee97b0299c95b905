/**
 * AuditEvents in the shape of IHE Basic Audit Log Patterns (BALP) RESTful-interaction events, R4:
 * type `rest`, subtype the FHIR interaction, action C/R/U/D/E, outcome, period, the client (id and
 * network address) as the requesting agent and this server as the other, and one entity per resource
 * touched, the patients they are about (role Patient) and, for searches, each query with its count.
 * Codes: http://hl7.org/fhir/R4/valueset-audit-event-type.html, valueset-audit-event-sub-type.html
 * (restful-interaction), valueset-audit-event-action.html, valueset-audit-event-outcome.html,
 * valueset-audit-entity-type.html, valueset-object-role.html; agent roles are DICOM DCM 110153
 * (Source Role ID) and 110152 (Destination Role ID), as BALP uses them.
 */
import type { AuditEvent, AuditEventEntity, Coding } from '@medplum/fhirtypes';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';
/** restful-interaction codes. */
export type AuditSubtype =
  | 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'history-system'
  | 'create' | 'search-type' | 'search-system' | 'batch' | 'transaction' | 'operation';

/** The system of the client ids in agent.who.identifier, so `AuditEvent?agent:identifier=` finds them. */
export const CLIENT_ID_SYSTEM = 'urn:mtm-fhir:client';

const REST: Coding = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' };
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

export interface AuditFacts {
  subtype: AuditSubtype;
  action: AuditAction;
  /** HTTP status of the outcome. */
  status: number;
  /** What went wrong, for a failure (never patient data: the server's own message). */
  failure?: string;
  start: Date;
  end: Date;
  client: string;
  address?: string;
  /** "Type/id" of each resource touched. */
  resources: string[];
  /** "Patient/id" of each patient the touched resources are about. */
  patients: string[];
  /** For searches: each query as sent (path and parameters) and how many resources it returned. */
  queries?: ReadonlyArray<{ text: string; count: number }>;
}

/** 0 success, 4 minor failure (the client's: 4xx), 8 serious failure (the server's: 5xx). */
function outcomeCode(status: number): AuditEvent['outcome'] {
  if (status < 400) return '0';
  return status < 500 ? '4' : '8';
}

export function auditEvent(facts: AuditFacts): AuditEvent {
  const entity: AuditEventEntity[] = [
    ...facts.patients.map((reference) => ({
      what: { reference },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    })),
    ...facts.resources.map((reference) => ({
      what: { reference },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
    })),
  ];
  for (const query of facts.queries ?? []) {
    entity.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      description: `${query.count} resources returned`,
      query: Buffer.from(query.text, 'utf8').toString('base64'),
      detail: [{ type: 'result-count', valueString: String(query.count) }],
    });
  }
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: REST,
    subtype: [{ system: RESTFUL_INTERACTION, code: facts.subtype }],
    action: facts.action,
    period: { start: facts.start.toISOString(), end: facts.end.toISOString() },
    recorded: facts.end.toISOString(),
    outcome: outcomeCode(facts.status),
    agent: [
      {
        type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
        who: { identifier: { system: CLIENT_ID_SYSTEM, value: facts.client }, display: facts.client },
        altId: facts.client,
        requestor: true,
        ...(facts.address ? { network: { address: facts.address, type: '2' as const } } : {}),
      },
      {
        type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
        who: { display: 'MTM FHIR server' },
        requestor: false,
      },
    ],
    source: {
      observer: { display: 'MTM FHIR server' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
  };
  if (facts.failure && event.outcome !== '0') event.outcomeDesc = facts.failure;
  if (entity.length) event.entity = entity;
  return event;
}
