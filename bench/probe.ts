/**
 * Before measuring: does the server validate at all (an invalid MedicationStatement must get 422),
 * and does it accept our generated resources (each type once)? A benchmark of "validated create"
 * means nothing if validation is off, or if the generated data would be refused.
 */
import type { Resource } from '@medplum/fhirtypes';
import { headersFor } from './load/measure';
import { generatePatient } from './population/population';

export interface ProbeResult {
  /** Status for a MedicationStatement whose status is not a code of its required ValueSet. */
  invalidStatus: number;
  validationActive: boolean;
  /** Per resource type: status of creating one generated sample, with the first issue if refused. */
  samples: Record<string, string>;
}

async function post(base: string, resource: Resource): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/${resource.resourceType}`, {
    method: 'POST',
    headers: headersFor(base),
    body: JSON.stringify({ ...resource, id: undefined }),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
}

function firstIssue(text: string): string {
  try {
    const body = JSON.parse(text) as { issue?: Array<{ details?: { text?: string }; diagnostics?: string; expression?: string[] }> };
    const issue = body.issue?.[0];
    return `${issue?.expression?.[0] ?? ''} ${issue?.details?.text ?? issue?.diagnostics ?? ''}`.trim().slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

export async function probe(base: string, patients: number, seed: number): Promise<ProbeResult> {
  const invalid = await post(base, {
    resourceType: 'MedicationStatement',
    // Not a MedicationStatement status (required binding): invalid whatever the profiles relax.
    status: 'not-a-status' as 'active',
    subject: { reference: 'Patient/pt-0' },
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '314076' }] },
  });
  const samples: Record<string, string> = {};
  // A patient outside the loaded range with every resource type (an issue, hence a plan).
  for (let n = patients + 1; n < patients + 50 && Object.keys(samples).length < 7; n++) {
    const record = generatePatient(n, patients, seed);
    if (!record.carePlanId) continue;
    for (const resource of record.resources) {
      if (samples[resource.resourceType]) continue;
      const { status, text } = await post(base, resource);
      samples[resource.resourceType] = status === 201 ? '201' : `${status} ${firstIssue(text)}`;
    }
  }
  return { invalidStatus: invalid.status, validationActive: invalid.status === 422, samples };
}
