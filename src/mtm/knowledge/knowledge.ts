/**
 * The knowledge the MTM steps use, by canonical URL: the ten CMS core chronic disease groups and
 * the drug classes. One store per repository, so every request sees the same cache and a posted
 * ValueSet version is picked up by the next request.
 */
import { MTM_BASE } from '../../conformance/canonical';
import type { RepositoryPort } from '../../interactions/types';
import type { StorageEngine } from '../../storage/port';
import type { ConditionGroup } from '../eligibility/criteria';
import { IngredientVocabulary } from '../medications/ingredients';
import { DrugClass } from './drug-class';
import { conceptKey, KnowledgeValueSets } from './value-sets';

// Keyed by the storage engine: each request has its own (access-guarded) repository, the cache is shared.
const stores = new WeakMap<StorageEngine, KnowledgeValueSets>();

export function knowledgeStore(repository: RepositoryPort): KnowledgeValueSets {
  let store = stores.get(repository.engine);
  if (!store) {
    store = new KnowledgeValueSets(repository.engine);
    stores.set(repository.engine, store);
  }
  return store;
}

/** The ten core chronic diseases of the CMS Part D MTM targeting criteria, each a ValueSet in profiles/. */
export const CORE_CHRONIC_DISEASES: ReadonlyArray<{ code: string; display: string; valueSet: string }> = [
  ['alzheimers', "Alzheimer's disease"],
  ['bone-disease-arthritis', 'Bone disease-arthritis'],
  ['chf', 'Chronic heart failure'],
  ['diabetes', 'Diabetes'],
  ['dyslipidemia', 'Dyslipidemia'],
  ['esrd', 'End-stage renal disease'],
  ['hiv-aids', 'HIV/AIDS'],
  ['hypertension', 'Hypertension'],
  ['mental-health', 'Mental health'],
  ['respiratory', 'Respiratory disease'],
].map(([code, display]) => ({ code, display, valueSet: `${MTM_BASE}/ValueSet/mtm-core-chronic-${code}` }));

export async function coreChronicDiseaseGroups(repository: RepositoryPort): Promise<ConditionGroup[]> {
  const expanded = await knowledgeStore(repository).expand(CORE_CHRONIC_DISEASES.map((d) => d.valueSet));
  return CORE_CHRONIC_DISEASES.map((d) => {
    const keys = expanded.get(d.valueSet)?.keys;
    return { code: d.code, display: d.display, has: (system, code) => keys?.has(conceptKey(system, code)) ?? false };
  });
}

export interface CompiledClasses {
  classes: ReadonlyMap<string, DrugClass | undefined>;
  vocabulary: IngredientVocabulary;
}

/** The drug classes at these URLs, compiled, with the ingredient vocabulary they teach. */
export function drugClasses(repository: RepositoryPort, urls: readonly string[]): Promise<CompiledClasses> {
  return knowledgeStore(repository).derive(`classes:${urls.join(' ')}`, (expand) => {
    const vocabulary = new IngredientVocabulary();
    const classes = new Map<string, DrugClass | undefined>();
    for (const [url, expansion] of expand(urls)) {
      const cls = expansion ? new DrugClass(expansion) : undefined;
      cls?.addTo(vocabulary);
      classes.set(url, cls);
    }
    return { classes, vocabulary };
  });
}
