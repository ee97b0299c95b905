/**
 * Our own differential-to-snapshot generator (fsh-sushi and fhir-snapshot-generator cannot work
 * offline). It applies a profile's differential onto the snapshot of its base definition, following
 * the R4 profiling rules we use: cardinality narrowing, type narrowing (incl. Reference targets),
 * bindings, fixed/pattern values, constraints, slicing and slices (type slices on choice elements
 * included), and constraints on children of data types, which unfolds the data type in place.
 *
 * The output is deterministic: same differential and base in, byte-identical JSON out.
 */
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

export interface SnapshotSources {
  /** A StructureDefinition (base resource, data type or profile) by canonical URL. */
  resolve(url: string): StructureDefinition | undefined;
  /**
   * Told of a differential that weakens a required binding of its base, which is then accepted.
   * Without it that is an error. For profiles published by others that do so (US Core's vital signs).
   */
  weakenedBinding?(elementId: string): void;
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** "A.b:s.c" -> "A.b.c": an element id without its slice names is its path. */
export function pathOfId(id: string): string {
  return id
    .split('.')
    .map((segment) => segment.replace(/:.*$/, ''))
    .join('.');
}

const FHIR_TYPE = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const cardinality = (max: string | undefined): number => (max === undefined || max === '*' ? Infinity : Number(max));
const clone = <T>(value: T): T => structuredClone(value);
type ElementRecord = Record<string, unknown>;

class SnapshotBuilder {
  constructor(
    readonly elements: ElementDefinition[],
    private readonly sources: SnapshotSources,
    private readonly profileUrl: string,
  ) {}

  apply(diff: ElementDefinition): void {
    if (!diff.id) throw new SnapshotError(`Differential element without id (path ${diff.path})`);
    const target = this.elements[this.ensure(diff.id)];
    this.merge(target, diff);
  }

  private find(id: string): number {
    return this.elements.findIndex((e) => e.id === id);
  }

  /** Index of the element with this id, creating slices and unfolding data types as needed. */
  private ensure(id: string): number {
    const found = this.find(id);
    if (found >= 0) return found;
    const dot = id.lastIndexOf('.');
    if (dot < 0) throw new SnapshotError(`Unknown root element ${id}`);
    const segment = id.slice(dot + 1);
    const colon = segment.indexOf(':');
    if (colon >= 0) return this.addSlice(id.slice(0, dot + 1 + colon), segment.slice(colon + 1));
    const parent = this.ensure(id.slice(0, dot));
    this.unfold(parent);
    // The parent's own id: the differential may name it differently (valueQuantity for value[x]:valueQuantity).
    const parentId = this.elements[parent].id as string;
    const index = this.find(`${parentId}.${segment}`);
    if (index >= 0) return index;
    const typed = this.typedChoice(parentId, segment);
    if (typed < 0) throw new SnapshotError(`No element ${id}: "${segment}" is not a child of ${id.slice(0, dot)}`);
    return typed;
  }

  /**
   * "Observation.valueQuantity": a choice element named for one of its types (R4 profiling rules)
   * is the type slice value[x]:valueQuantity, holding only that type.
   */
  private typedChoice(parentId: string, segment: string): number {
    for (const element of this.elements) {
      const id = element.id as string;
      if (!id.startsWith(`${parentId}.`) || !id.endsWith('[x]') || id.slice(parentId.length + 1).includes('.')) continue;
      const stem = id.slice(parentId.length + 1, -3);
      const type = (element.type ?? []).find((t) => `${stem}${(t.code as string)[0].toUpperCase()}${(t.code as string).slice(1)}` === segment);
      if (!type) continue;
      const existing = this.find(`${id}:${segment}`);
      if (existing >= 0) return existing;
      const index = this.addSlice(id, segment);
      if (this.elements[index].type?.length !== 1) this.elements[index].type = [clone(type)];
      return index;
    }
    return -1;
  }

  private subtreeEnd(index: number): number {
    const id = this.elements[index].id as string;
    let end = index + 1;
    while (end < this.elements.length) {
      const other = this.elements[end].id as string;
      if (!other.startsWith(`${id}.`) && !other.startsWith(`${id}:`)) break;
      end++;
    }
    return end;
  }

  /** Inserts the children of a data-typed element, taken from its type's snapshot. */
  private unfold(index: number): void {
    const parent = this.elements[index];
    const next = this.elements[index + 1];
    if (next?.id?.startsWith(`${parent.id}.`)) return;
    let children: ElementDefinition[];
    let fromId: string;
    let fromPath: string;
    if (parent.contentReference) {
      fromPath = parent.contentReference.slice(parent.contentReference.indexOf('#') + 1);
      fromId = fromPath;
      children = this.elements.filter((e) => e.id?.startsWith(`${fromId}.`) && !e.id.includes(':'));
    } else {
      const codes = [...new Set((parent.type ?? []).map((t) => t.code))];
      if (codes.length !== 1) {
        throw new SnapshotError(`${parent.id} has ${codes.length} types; constrain it to one (or slice by type) first`);
      }
      const code = codes[0] as string;
      const typeSd = this.sources.resolve(`http://hl7.org/fhir/StructureDefinition/${code}`);
      if (!typeSd?.snapshot?.element?.length) throw new SnapshotError(`No snapshot for data type ${code}`);
      const [root, ...rest] = typeSd.snapshot.element;
      fromId = root.id as string;
      fromPath = root.path as string;
      children = rest;
    }
    const unfolded = children.map((child) => {
      const copy = clone(child);
      copy.id = `${parent.id}${(child.id as string).slice(fromId.length)}`;
      copy.path = `${parent.path}${(child.path as string).slice(fromPath.length)}`;
      return copy;
    });
    this.elements.splice(index + 1, 0, ...unfolded);
  }

  private addSlice(slicedId: string, name: string): number {
    const slicedIndex = this.ensure(slicedId);
    const sliced = this.elements[slicedIndex];
    if (!sliced.slicing) {
      if (sliced.path?.endsWith('[x]')) {
        // A type slice on a choice element implies the standard type discriminator.
        sliced.slicing = { discriminator: [{ type: 'type', path: '$this' }], ordered: false, rules: 'open' };
      } else if (/\.(extension|modifierExtension)$/.test(sliced.path ?? '')) {
        // Extensions are sliced by url (R4 profiling rules), whether or not the differential says so.
        sliced.slicing = { discriminator: [{ type: 'value', path: 'url' }], ordered: false, rules: 'open' };
      } else {
        throw new SnapshotError(`${slicedId}:${name} slices ${slicedId}, which has no slicing in the differential`);
      }
    }
    const end = this.subtreeEnd(slicedIndex);
    const { slicing: _slicing, ...rest } = clone(sliced);
    // A slice is one partition of the sliced element: its own cardinality starts at 0.
    const slice: ElementDefinition = { ...rest, id: `${slicedId}:${name}`, sliceName: name, min: 0 };
    const children = this.elements
      .slice(slicedIndex + 1, end)
      .filter((e) => e.id?.startsWith(`${slicedId}.`))
      .map((e) => ({ ...clone(e), id: `${slicedId}:${name}${(e.id as string).slice(slicedId.length)}` }));
    this.elements.splice(end, 0, slice, ...children);
    return end;
  }

  private merge(target: ElementDefinition, diff: ElementDefinition): void {
    const where = diff.id as string;
    const record = target as unknown as ElementRecord;
    for (const [key, value] of Object.entries(diff)) {
      switch (key) {
        case 'id':
        case 'path':
          break;
        case 'sliceName':
          if (target.sliceName !== value) throw new SnapshotError(`${where}: sliceName ${String(value)} does not match`);
          break;
        case 'min':
          if ((value as number) < (target.min ?? 0)) throw new SnapshotError(`${where}: min ${value} is below the base ${target.min}`);
          if ((value as number) > cardinality(target.max)) throw new SnapshotError(`${where}: min ${value} exceeds max ${target.max}`);
          target.min = value as number;
          break;
        case 'max':
          if (cardinality(value as string) > cardinality(target.max)) {
            throw new SnapshotError(`${where}: max ${value} exceeds the base ${target.max}`);
          }
          target.max = value as string;
          break;
        case 'type': {
          // System types (Extension.url) also go by the FHIR type their extension names.
          const allowed = new Set((target.type ?? []).flatMap((t) => [t.code, ...(t.extension ?? []).filter((x) => x.url === FHIR_TYPE).map((x) => x.valueUrl)]));
          for (const t of diff.type ?? []) {
            if (!allowed.has(t.code)) throw new SnapshotError(`${where}: type ${t.code} is not allowed by the base`);
          }
          target.type = clone(diff.type);
          break;
        }
        case 'binding':
          if (target.binding?.strength === 'required' && diff.binding?.strength !== 'required') {
            if (!this.sources.weakenedBinding) throw new SnapshotError(`${where}: a required binding cannot be weakened`);
            this.sources.weakenedBinding(where);
          }
          target.binding = clone(diff.binding);
          break;
        case 'constraint': {
          const existing = new Set((target.constraint ?? []).map((c) => c.key));
          for (const c of diff.constraint ?? []) {
            if (existing.has(c.key)) throw new SnapshotError(`${where}: constraint ${c.key} already exists`);
          }
          const added = (diff.constraint ?? []).map((c) => ({ ...clone(c), source: this.profileUrl }));
          target.constraint = [...(target.constraint ?? []), ...added];
          break;
        }
        case 'condition':
          target.condition = [...new Set([...(target.condition ?? []), ...(diff.condition ?? [])])];
          break;
        default:
          if (key.startsWith('fixed') || key.startsWith('pattern')) {
            for (const k of Object.keys(record)) if (k.startsWith('fixed') || k.startsWith('pattern')) delete record[k];
          }
          record[key] = clone(value);
      }
    }
  }
}

/** The differential with every element's path filled in from its id. */
export function normaliseDifferential(profile: StructureDefinition): ElementDefinition[] {
  return (profile.differential?.element ?? []).map((e) => {
    if (!e.id) throw new SnapshotError(`Differential element without id in ${profile.url}`);
    const { id, path: _path, ...rest } = e;
    return { id, path: pathOfId(id), ...rest };
  });
}

/** A complete StructureDefinition: the profile's metadata, its generated snapshot and its differential. */
export function generateSnapshot(profile: StructureDefinition, sources: SnapshotSources): StructureDefinition {
  if (!profile.url || !profile.baseDefinition || !profile.type) {
    throw new SnapshotError(`Profile ${profile.id} needs url, type and baseDefinition`);
  }
  const base = sources.resolve(profile.baseDefinition);
  if (!base?.snapshot?.element?.length) throw new SnapshotError(`No snapshot for base ${profile.baseDefinition}`);
  if (base.type !== profile.type) throw new SnapshotError(`${profile.url} is a ${profile.type} but its base is a ${base.type}`);

  const differential = normaliseDifferential(profile);
  const builder = new SnapshotBuilder(clone(base.snapshot.element), sources, profile.url);
  for (const element of differential) builder.apply(element);

  const { snapshot: _snapshot, differential: _differential, ...metadata } = profile;
  return {
    ...metadata,
    fhirVersion: '4.0.1',
    kind: base.kind,
    abstract: false,
    derivation: 'constraint',
    snapshot: { element: builder.elements },
    differential: { element: differential },
  };
}
