/**
 * The CapabilityStatement, generated from what this server actually wires up: its resource types,
 * the interactions the dispatcher routes, the search parameters the search layer compiles, the
 * registered operations and the profiles the validator knows. It never claims more than that.
 */
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceOperation,
  ResourceType,
} from '@medplum/fhirtypes';
import { resourceTypes } from '../fhir/definitions';
import type { FhirResponse, RequestContext } from './types';

export const SERVER_NAME = 'MTM FHIR Server';
export const SERVER_VERSION = '0.1.0';

/** Interactions the bundle/transaction layer adds, when it is wired. */
export interface SystemFeatures {
  transaction: boolean;
  batch: boolean;
}

export function capabilityStatement(ctx: RequestContext, features: SystemFeatures): CapabilityStatement {
  const { search, operations, profileTypes } = ctx.services;
  const profiles = [...profileTypes.keys()];
  const operationEntries = (level: 'system' | 'type' | 'instance', type?: string): CapabilityStatementRestResourceOperation[] =>
    operations
      .list()
      .filter((op) => op.levels.includes(level) && (level === 'system' || !op.resourceTypes || op.resourceTypes.includes(type as string)))
      .map((op) => ({ name: op.code, definition: op.definition }));

  const resource: CapabilityStatementRestResource[] = [...resourceTypes()].sort().map((type) => {
    const interaction: CapabilityStatementRestResource['interaction'] = [
      { code: 'read' },
      { code: 'vread' },
      { code: 'update' },
      { code: 'patch' },
      { code: 'delete' },
      { code: 'history-instance' },
      { code: 'history-type' },
      { code: 'create' },
    ];
    if (search) interaction.push({ code: 'search-type' });
    const entry: CapabilityStatementRestResource = {
      type: type as ResourceType,
      interaction,
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: !!search,
      conditionalUpdate: !!search,
      conditionalDelete: search ? 'multiple' : 'not-supported',
      conditionalRead: 'modified-since',
    };
    const typeProfiles = profiles.filter((p) => profileTypes.get(p) === type);
    if (typeProfiles.length) entry.supportedProfile = typeProfiles;
    if (search) {
      entry.searchParam = search.supportedParameters(type).map((p) => ({
        name: p.name,
        type: p.type as 'string',
        definition: p.definition,
      }));
    }
    const ops = [...operationEntries('type', type), ...operationEntries('instance', type)];
    if (ops.length) entry.operation = dedupe(ops);
    return entry;
  });

  const systemInteractions: NonNullable<CapabilityStatement['rest']>[number]['interaction'] = [{ code: 'history-system' }];
  if (features.transaction) systemInteractions.push({ code: 'transaction' });
  if (features.batch) systemInteractions.push({ code: 'batch' });
  if (search) systemInteractions.push({ code: 'search-system' });

  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: SERVER_NAME, version: SERVER_VERSION },
    implementation: { description: `${SERVER_NAME} (${ctx.services.repository.engine.kind} storage)`, url: ctx.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        security: smartSecurity(ctx.baseUrl, ctx.services.config.perimeter.corsOrigins.length > 0),
        resource,
        interaction: systemInteractions,
        operation: operationEntries('system'),
      },
    ],
  };
}

/**
 * SMART on FHIR's rest.security (SMART App Launch 2.x, conformance.html): the service code and the
 * oauth-uris extension naming the token endpoint. The token endpoint is always served under the base.
 */
function smartSecurity(baseUrl: string, cors: boolean): NonNullable<CapabilityStatement['rest']>[number]['security'] {
  return {
    cors,
    service: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
        text: 'SMART Backend Services: OAuth 2.0 client_credentials with private_key_jwt (RS384 or ES384)',
      },
    ],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [{ url: 'token', valueUri: `${baseUrl}/auth/token` }],
      },
    ],
    description: `Send "Authorization: Bearer <token>"; get a token at ${baseUrl}/auth/token (discovery: ${baseUrl}/.well-known/smart-configuration).`,
  };
}

function dedupe(ops: CapabilityStatementRestResourceOperation[]): CapabilityStatementRestResourceOperation[] {
  const seen = new Set<string>();
  return ops.filter((op) => !seen.has(op.name) && seen.add(op.name));
}

export async function metadata(ctx: RequestContext, features: SystemFeatures): Promise<FhirResponse> {
  return { status: 200, headers: {}, body: capabilityStatement(ctx, features) };
}
