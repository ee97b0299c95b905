/**
 * The validation pipeline's public face. The server creates one validator at start and calls
 * `validate` on every create, update, patch, transaction entry and $validate; it is synchronous and
 * never throws on bad input.
 *
 *   const validator = createResourceValidator({ lenientUnknownProfiles: config.validation.lenientUnknownProfiles });
 *   const { valid, issues, appliedProfiles } = validator.validate(resource, { mode: 'create' });
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { ValidationPipeline } from './pipeline';
import type { RequiredProfileRule } from './profile-selection';
import { DEFAULT_REQUIRED_PROFILES } from './profile-selection';

export type { ValidationOptions, ValidationResult } from './pipeline';
export type { RequiredProfileRule } from './profile-selection';
export { DEFAULT_REQUIRED_PROFILES } from './profile-selection';

export interface ResourceValidator {
  /** Never throws on bad input; `valid` is false when any issue is an error or fatal. */
  validate(resource: Resource, options?: { profiles?: string[]; mode?: 'create' | 'update' | 'delete' }): {
    valid: boolean;
    issues: OperationOutcomeIssue[];
    /** The MTM profiles the resource was validated against; on success the server adds them to meta.profile. */
    appliedProfiles: string[];
  };
  /** Canonical URLs of every profile this validator knows. */
  knownProfiles(): string[];
}

export interface ResourceValidatorOptions {
  /** When true, a meta.profile we do not know is a warning instead of an error (422). */
  lenientUnknownProfiles: boolean;
  /** Profiles required per resource type even without meta.profile; DEFAULT_REQUIRED_PROFILES when absent, [] for none. */
  requiredProfiles?: readonly RequiredProfileRule[];
  /** Load terminology and compile the MTM types now rather than on the first requests (default true). */
  warmUp?: boolean;
}

export function createResourceValidator(options: ResourceValidatorOptions): ResourceValidator {
  const pipeline = new ValidationPipeline({
    lenientUnknownProfiles: options.lenientUnknownProfiles,
    requiredProfiles: options.requiredProfiles ?? DEFAULT_REQUIRED_PROFILES,
  });
  if (options.warmUp !== false) pipeline.warmUp();
  return {
    validate: (resource, validationOptions) => pipeline.validate(resource, validationOptions),
    knownProfiles: () => pipeline.knownProfiles(),
  };
}
