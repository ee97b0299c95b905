/**
 * OperationOutcome construction and the one error type that carries an HTTP status. Every error
 * that reaches a client is a FhirError turned into its OperationOutcome (DESIGN.md decision 5).
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

export function issue(
  severity: IssueSeverity,
  code: IssueCode,
  diagnostics: string,
  expression?: string | string[],
): OperationOutcomeIssue {
  const result: OperationOutcomeIssue = { severity, code, diagnostics };
  if (expression !== undefined) result.expression = Array.isArray(expression) ? expression : [expression];
  return result;
}

export function outcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export function informational(diagnostics: string): OperationOutcome {
  return outcome([issue('information', 'informational', diagnostics)]);
}

export function hasErrors(issues: readonly OperationOutcomeIssue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

/** An error with the HTTP status the FHIR specification names for it, and its OperationOutcome. */
export class FhirError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  readonly headers: Record<string, string>;

  constructor(status: number, outcomeOrIssues: OperationOutcome | OperationOutcomeIssue[], headers: Record<string, string> = {}) {
    const body = Array.isArray(outcomeOrIssues) ? outcome(outcomeOrIssues) : outcomeOrIssues;
    super(body.issue?.map((i) => i.diagnostics).filter(Boolean).join('; ') || `HTTP ${status}`);
    this.name = 'FhirError';
    this.status = status;
    this.outcome = body;
    this.headers = headers;
  }
}

const simple =
  (status: number, code: IssueCode) =>
  (diagnostics: string, expression?: string | string[]): FhirError =>
    new FhirError(status, [issue('error', code, diagnostics, expression)]);

export const badRequest = simple(400, 'invalid');
export const notFound = simple(404, 'not-found');
export const methodNotAllowed = simple(405, 'not-supported');
export const notAcceptable = simple(406, 'not-supported');
export const conflict = simple(409, 'conflict');
export const gone = simple(410, 'deleted');
export const preconditionFailed = simple(412, 'conflict');
export const payloadTooLarge = simple(413, 'too-costly');
export const unsupportedMediaType = simple(415, 'not-supported');
export const unprocessable = simple(422, 'processing');
export const notSupported = simple(501, 'not-supported');

export function isFhirError(e: unknown): e is FhirError {
  return e instanceof FhirError;
}
