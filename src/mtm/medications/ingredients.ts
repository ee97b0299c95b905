/**
 * Ingredient names from what senders write: RxNorm displays ("acetaminophen 325 MG / oxycodone
 * hydrochloride 5 MG Oral Tablet [Percocet]") and free text ("oxycodone-acetaminophen 5-325 mg").
 * Names are normalised (lower case, accents folded, salt words dropped) so "Oxycodone HCl" and
 * "oxycodone hydrochloride" are the same ingredient.
 */

/** Salt and form words that do not change which ingredient a medicine is. */
const SALT_WORDS = new Set([
  'hydrochloride', 'hcl', 'dihydrochloride', 'hydrobromide', 'sodium', 'potassium', 'calcium', 'magnesium', 'maleate', 'succinate',
  'tartrate', 'bitartrate', 'sulfate', 'phosphate', 'citrate', 'mesylate', 'besylate', 'fumarate', 'acetate', 'bromide', 'hyclate',
  'monohydrate', 'dihydrate', 'trihydrate', 'anhydrous', 'disodium', 'dipropionate', 'propionate', 'furoate', 'xinafoate', 'tosylate',
  'napsylate', 'valerate', 'cypionate', 'enanthate', 'pamoate', 'decanoate', 'lactate', 'gluconate', 'chloride', 'nitrate', 'oxalate',
  'salicylate', 'aspartate', 'saccharate', 'hemifumarate', 'dimesylate', 'free', 'base', 'extended', 'release', 'er', 'xr', 'sr', 'cr',
]);

export function normaliseWords(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length > 0);
}

/** One ingredient name in its normal form, or '' when nothing is left. */
export function normaliseIngredient(name: string): string {
  return normaliseWords(name)
    .filter((w) => !SALT_WORDS.has(w))
    .join(' ');
}

/**
 * The ingredients of an RxNorm-style name: the words of each " / "-separated part up to its
 * first number. Packs ("{4 (x) / 2 (y)} Pack") give the ingredients of their items; a bracketed
 * brand is dropped.
 */
export function ingredientsFromDisplay(display: string): string[] {
  const items = display.match(/\(([^()]+)\)/g);
  const texts = display.trim().startsWith('{') && items ? items.map((i) => i.slice(1, -1)) : [display];
  const names = new Set<string>();
  for (const text of texts) {
    const withoutBrand = text.replace(/\[[^\]]*\]/g, ' ').replace(/^\s*\d+(\.\d+)?\s+(HR|ACTUAT|ML|DAY)\s+/i, '');
    for (const part of withoutBrand.split(/\s\/\s|\s\/|\/\s/)) {
      const words: string[] = [];
      for (const word of part.trim().split(/\s+/)) {
        if (/^[\d.]/.test(word)) break;
        words.push(word);
      }
      const name = normaliseIngredient(words.join(' '));
      if (name) names.add(name);
    }
  }
  return [...names];
}

/** The brand of an RxNorm branded display ("... [Percocet]"), normalised; undefined when none. */
export function brandFromDisplay(display: string): string | undefined {
  const match = /\[([^\]]+)\]\s*$/.exec(display.trim());
  const brand = match ? normaliseWords(match[1]).join(' ') : '';
  return brand || undefined;
}

/**
 * A vocabulary of known ingredient (and brand) names, found as whole words in free text: longest
 * names first, so "insulin glargine" wins over "insulin".
 */
export class IngredientVocabulary {
  private readonly names = new Map<string, string[]>();
  private maxWords = 1;

  /** `ingredients` is what the name stands for: itself for an ingredient, the contents for a brand. */
  add(name: string, ingredients: string[] = [name]): void {
    if (!name || this.names.has(name)) return;
    this.names.set(name, ingredients);
    this.maxWords = Math.max(this.maxWords, name.split(' ').length);
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** The known ingredients named in the text. */
  find(text: string): string[] {
    const words = normaliseWords(text).filter((w) => !SALT_WORDS.has(w));
    const found = new Set<string>();
    for (let i = 0; i < words.length; ) {
      let matched = 0;
      for (let n = Math.min(this.maxWords, words.length - i); n > 0; n--) {
        const ingredients = this.names.get(words.slice(i, i + n).join(' '));
        if (ingredients) {
          for (const ingredient of ingredients) found.add(ingredient);
          matched = n;
          break;
        }
      }
      i += matched || 1;
    }
    return [...found];
  }
}
