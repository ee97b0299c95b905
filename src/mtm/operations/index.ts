/** The MTM operations this server offers, for the composition root to register. */
import type { OperationRegistry } from '../../interactions/operations/registry';
import { carePlanDocument } from './careplan-document';
import { cmrSummary } from './cmr-summary';
import { evaluateMeasure } from './evaluate-measure';
import { mtmInterventions } from './mtm-interventions';
import { mtmEligibility } from './mtm-eligibility';
import { mtmEligibilityStatus, mtmEligibilitySystem } from './mtm-eligibility-system';
import { mtmOptOut } from './mtm-opt-out';
import { mtmReview } from './mtm-review';
import { mtmPartDReport } from './mtm-part-d-report';
import { reconcile } from './reconcile';
import { smpQuery } from './smp-query';
import { smpSubmit } from './smp-submit';

export function registerMtmOperations(registry: OperationRegistry): void {
  registry.register(smpSubmit).register(smpQuery).register(reconcile).register(mtmInterventions).register(mtmPartDReport).register(evaluateMeasure);
  registry.register(mtmEligibility).register(mtmEligibilitySystem).register(mtmEligibilityStatus).register(mtmOptOut).register(mtmReview);
  registry.register(cmrSummary).register(carePlanDocument);
}
