/** The messages between the server and its validation workers (see worker-pool.ts). */
import type { Resource } from '@medplum/fhirtypes';
import type { ValidationOptions, ValidationResult } from './pipeline';
import type { StructuralStageName } from './compiled-stage';
import type { RequiredProfileRule } from './profile-selection';

/** What a worker needs to build the same pipeline as an in-process validator. */
export interface WorkerSetup {
  lenientUnknownProfiles: boolean;
  requiredProfiles: readonly RequiredProfileRule[];
  structuralStage?: StructuralStageName;
}

export interface ValidationItem {
  resource: Resource;
  options?: ValidationOptions;
}

/**
 * Server -> worker: validate these, in order. The items travel as JSON text: for resources that
 * came from JSON, that is about twice as fast as the structured clone postMessage would do.
 */
export interface ValidationJob {
  id: number;
  /** JSON of ValidationItem[]. */
  items: string;
}

/** Worker -> server: the pipeline is built and warm. */
export interface WorkerReady {
  kind: 'ready';
}

/** Worker -> server: one result per item of the job, in the same order. */
export interface JobDone {
  kind: 'done';
  id: number;
  results: ValidationResult[];
}

export type WorkerMessage = WorkerReady | JobDone;
