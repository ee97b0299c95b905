/** Reading operation inputs that may come as typed Parameters (POST) or as query strings (GET). */
import type { Parameters } from '@medplum/fhirtypes';
import { badRequest } from '../../fhir/outcome';
import { parameterValue } from '../../interactions/operations/registry';

export function booleanInput(parameters: Parameters, name: string): boolean | undefined {
  const p = parameterValue(parameters, name);
  if (!p) return undefined;
  if (typeof p.valueBoolean === 'boolean') return p.valueBoolean;
  if (p.valueString === 'true') return true;
  if (p.valueString === 'false') return false;
  throw badRequest(`The ${name} parameter must be true or false`, name);
}

/** A date (YYYY-MM-DD) input; defaults to today (UTC). */
export function dateInput(parameters: Parameters, name: string): string {
  const p = parameterValue(parameters, name);
  const raw = p?.valueDate ?? p?.valueDateTime?.slice(0, 10) ?? p?.valueString;
  if (raw === undefined) return new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(raw))) throw badRequest(`The ${name} parameter must be a date (YYYY-MM-DD)`, name);
  return raw;
}

export function codeInput(parameters: Parameters, name: string): string | undefined {
  const p = parameterValue(parameters, name);
  return p?.valueCode ?? p?.valueCoding?.code ?? p?.valueCodeableConcept?.coding?.[0]?.code ?? p?.valueString;
}

/** Every Patient id named by repeated `patient` parameters (valueReference or valueString). */
export function patientInputs(parameters: Parameters): string[] {
  return (parameters.parameter ?? [])
    .filter((p) => p.name === 'patient')
    .map((p) => {
      const ref = p.valueReference?.reference ?? p.valueString ?? '';
      const match = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref) ?? /^([A-Za-z0-9\-.]{1,64})$/.exec(ref);
      if (!match) throw badRequest(`The patient parameter "${ref}" must reference a Patient, e.g. Patient/123`, 'patient');
      return match[1];
    });
}
