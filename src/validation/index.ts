/**
 * The validation pipeline's public face, in two shapes:
 * - `createResourceValidator`: the pipeline on the calling thread, synchronous; for tools and tests.
 * - `startValidationService`: what the server uses. It awaits `validate` on every create, update,
 *   patch and $validate, and `validateEach` for the entries of a Bundle; with `workers > 0` the
 *   pipeline runs on that many worker threads, off the event loop.
 *
 *   const validation = startValidationService({ lenientUnknownProfiles: false, workers: 1 });
 *   await validation.ready;
 *   const { valid, issues, appliedProfiles } = await validation.validate(resource, { mode: 'create' });
 *
 * Bad input never makes either throw: it is answered with issues.
 */
import type { Resource } from '@medplum/fhirtypes';
import { mtmStructureDefinitions } from '../conformance';
import type { StructuralStageName } from './compiled-stage';
import type { ValidationOptions, ValidationResult } from './pipeline';
import { ValidationPipeline } from './pipeline';
import type { RequiredProfileRule } from './profile-selection';
import { DEFAULT_REQUIRED_PROFILES } from './profile-selection';
import { ValidationWorkerPool } from './worker-pool';
import type { ValidationItem } from './worker-protocol';

export type { ValidationOptions, ValidationResult } from './pipeline';
export type { RequiredProfileRule } from './profile-selection';
export type { StructuralStageName } from './compiled-stage';
export { DEFAULT_REQUIRED_PROFILES } from './profile-selection';
export type { ValidationItem } from './worker-protocol';

export interface ResourceValidator {
  /** `valid` is false when any issue is an error or fatal; on success `appliedProfiles` names the MTM profiles checked. */
  validate(resource: Resource, options?: ValidationOptions): ValidationResult;
  /** Canonical URLs of every profile this validator knows. */
  knownProfiles(): string[];
}

export interface ValidationService {
  validate(resource: Resource, options?: ValidationOptions): Promise<ValidationResult>;
  /** One promise per item, in order; on workers, early items settle while later ones are checked. */
  validateEach(items: ValidationItem[]): Promise<ValidationResult>[];
  knownProfiles(): string[];
  /** Resolves once validation can answer without start-up delay; rejects if it cannot start. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface ResourceValidatorOptions {
  /** When true, a meta.profile we do not know is a warning instead of an error (422). */
  lenientUnknownProfiles: boolean;
  /** Profiles required per resource type even without meta.profile; DEFAULT_REQUIRED_PROFILES when absent, [] for none. */
  requiredProfiles?: readonly RequiredProfileRule[];
  /** Stage 2: the compiled one ('compiled', default) or Medplum's generic validator ('medplum', the reference). */
  structuralStage?: StructuralStageName;
  /** Load terminology and compile the MTM types now rather than on the first requests (default true). */
  warmUp?: boolean;
}

export function createResourceValidator(options: ResourceValidatorOptions): ResourceValidator {
  const pipeline = new ValidationPipeline({
    lenientUnknownProfiles: options.lenientUnknownProfiles,
    requiredProfiles: options.requiredProfiles ?? DEFAULT_REQUIRED_PROFILES,
    structuralStage: options.structuralStage,
  });
  if (options.warmUp !== false) pipeline.warmUp();
  return {
    validate: (resource, validationOptions) => pipeline.validate(resource, validationOptions),
    knownProfiles: () => pipeline.knownProfiles(),
  };
}

export interface ValidationServiceOptions extends ResourceValidatorOptions {
  workers: number;
  /** Told when a validation worker died and was replaced, with its exit code. */
  onWorkerReplaced?: (exitCode: number) => void;
}

export function startValidationService(options: ValidationServiceOptions): ValidationService {
  if (options.workers === 0) {
    const validator = createResourceValidator(options);
    return {
      validate: async (resource, validationOptions) => validator.validate(resource, validationOptions),
      validateEach: (items) => items.map((item) => Promise.resolve(validator.validate(item.resource, item.options))),
      knownProfiles: () => validator.knownProfiles(),
      ready: Promise.resolve(),
      close: async () => undefined,
    };
  }
  const pool = new ValidationWorkerPool(
    options.workers,
    {
      lenientUnknownProfiles: options.lenientUnknownProfiles,
      requiredProfiles: options.requiredProfiles ?? DEFAULT_REQUIRED_PROFILES,
      structuralStage: options.structuralStage,
    },
    undefined,
    options.onWorkerReplaced,
  );
  const profiles = mtmStructureDefinitions().map((sd) => sd.url as string);
  return {
    validate: (resource, validationOptions) => pool.validateEach([{ resource, options: validationOptions }])[0],
    validateEach: (items) => pool.validateEach(items),
    knownProfiles: () => profiles,
    ready: pool.ready,
    close: () => pool.close(),
  };
}
