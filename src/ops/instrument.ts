/**
 * Time validation and storage transactions for the metrics, without either layer knowing about
 * metrics: the composition root instruments the instances it builds.
 */
import type { ValidationOutcome, ValidationPort } from '../interactions/types';
import { isFhirError } from '../fhir/outcome';
import { DuplicateKeyError, type StorageEngine } from '../storage/port';
import type { ServerMetrics } from './metrics';

function seconds(startedNs: bigint): number {
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}

export function instrumentValidator<V extends ValidationPort>(validator: V, metrics: ServerMetrics): V {
  const timed = (outcome: Promise<ValidationOutcome>): Promise<ValidationOutcome> => {
    const started = process.hrtime.bigint();
    metrics.validationsInFlight.inc();
    return outcome.finally(() => {
      metrics.validationsInFlight.dec();
      metrics.validationSeconds.observe(seconds(started));
    });
  };
  const validate = validator.validate.bind(validator);
  const validateEach = validator.validateEach.bind(validator);
  validator.validate = (resource, options) => timed(validate(resource, options));
  validator.validateEach = (items) => validateEach(items).map(timed);
  return validator;
}

/**
 * Times every transaction of the engine. The method is replaced on the instance itself rather than
 * wrapped in a new object, so whatever else an engine offers stays exactly as it was.
 */
export function instrumentEngine<E extends StorageEngine>(
  engine: E,
  metrics: ServerMetrics,
  /** Told of a transaction that failed for a reason other than a FHIR answer (412, 409, ...). */
  onStorageError: (error: unknown) => void,
): E {
  const withTransaction = engine.withTransaction.bind(engine);
  engine.withTransaction = async (work) => {
    const started = process.hrtime.bigint();
    try {
      const result = await withTransaction(work);
      metrics.commitSeconds.observe({ outcome: 'committed' }, seconds(started));
      return result;
    } catch (error) {
      metrics.commitSeconds.observe({ outcome: 'aborted' }, seconds(started));
      if (!isFhirError(error) && !(error instanceof DuplicateKeyError)) onStorageError(error);
      throw error;
    }
  };
  return engine;
}
