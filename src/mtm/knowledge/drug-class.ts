/**
 * A drug class from its ValueSet, matched against a patient's medicine by RxNorm code first and
 * otherwise by normalised ingredient name (many senders send names only).
 *
 * By name, a medicine is in the class when it contains an ingredient the class lists by name
 * (CodeSystem mtm-ingredient-name), or an ingredient the class has as a single-ingredient product,
 * or exactly the ingredients of one of its products. So acetaminophen alone is not an opioid just
 * because acetaminophen/oxycodone is.
 */
import { CODE_SYSTEM, SYSTEM } from '../../conformance/canonical';
import { brandFromDisplay, type IngredientVocabulary, ingredientsFromDisplay, normaliseIngredient } from '../medications/ingredients';
import type { ExpandedValueSet } from './value-sets';

export interface ClassifiableMedicine {
  rxnormCodes: readonly string[];
  ingredients: readonly string[];
}

export type MatchPath = 'rxnorm-code' | 'ingredient-name';

export const signature = (ingredients: readonly string[]): string => [...ingredients].sort().join(' + ');

export class DrugClass {
  readonly url: string;
  readonly title: string;
  readonly reference: string;
  private readonly codes = new Set<string>();
  private readonly names = new Set<string>();
  private readonly combinations = new Set<string>();
  private readonly products: Array<{ ingredients: string[]; brand?: string }> = [];

  constructor(expansion: ExpandedValueSet) {
    this.url = expansion.url;
    this.title = expansion.title ?? expansion.url;
    this.reference = `ValueSet/${expansion.id}`;
    for (const concept of expansion.concepts) {
      if (concept.system === CODE_SYSTEM.ingredientName) {
        const name = normaliseIngredient(concept.code);
        if (name) this.names.add(name);
      } else if (concept.system === SYSTEM.rxnorm) {
        this.codes.add(concept.code);
        const ingredients = concept.display ? ingredientsFromDisplay(concept.display) : [];
        if (ingredients.length === 0) continue;
        this.products.push({ ingredients, brand: concept.display ? brandFromDisplay(concept.display) : undefined });
        this.combinations.add(signature(ingredients));
        if (ingredients.length === 1) this.names.add(ingredients[0]);
      }
    }
  }

  /** Teaches the vocabulary every ingredient and brand this class knows. */
  addTo(vocabulary: IngredientVocabulary): void {
    for (const name of this.names) vocabulary.add(name);
    for (const product of this.products) {
      for (const ingredient of product.ingredients) vocabulary.add(ingredient);
      if (product.brand) vocabulary.add(product.brand, product.ingredients);
    }
  }

  match(medicine: ClassifiableMedicine): MatchPath | undefined {
    if (medicine.rxnormCodes.some((c) => this.codes.has(c))) return 'rxnorm-code';
    if (medicine.ingredients.length === 0) return undefined;
    if (medicine.ingredients.some((i) => this.names.has(i))) return 'ingredient-name';
    if (this.combinations.has(signature(medicine.ingredients))) return 'ingredient-name';
    return undefined;
  }
}
