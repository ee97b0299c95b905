/**
 * Parses search criteria (everything that is not a result parameter) into a tree for one resource
 * type: plain parameters with a modifier, chains (`subject:Patient.name=x`, any depth) and reverse
 * chains (`_has:Observation:patient:code=x`, nested). Names and values stay flat strings: a name
 * like `name[$ne]` is rejected, never interpreted.
 */
import { isKnownResourceType } from '../fhir/definitions';
import { badRequest } from '../fhir/outcome';
import type { ParamDef, SearchParameterRegistry } from './registry';
import type { ParamType } from './types';

export interface LeafCriterion {
  kind: 'leaf';
  name: string;
  param: ParamDef;
  modifier?: string;
  value: string;
}

export interface ChainCriterion {
  kind: 'chain';
  name: string;
  param: ParamDef;
  /** One sub-criterion per target type the chain may go through. */
  targets: Array<{ type: string; next: Criterion }>;
}

export interface HasCriterion {
  kind: 'has';
  name: string;
  /** The type being searched: the one the source resources refer to. */
  type: string;
  sourceType: string;
  refParam: ParamDef;
  next: Criterion;
}

export type Criterion = LeafCriterion | ChainCriterion | HasCriterion;

/** A parameter this server does not know: ignored with a warning, or 400 under handling=strict. */
export class UnknownParameter extends Error {
  constructor(readonly parameter: string, reason: string) {
    super(reason);
  }
}

/** Characters a search parameter name may contain (codes, modifiers, chains, _has). */
const VALID_NAME = /^[A-Za-z0-9_\-.:]+$/;

const MODIFIERS: Record<ParamType, readonly string[]> = {
  string: ['exact', 'contains', 'missing'],
  token: ['not', 'text', 'missing', 'of-type', 'in', 'not-in'],
  reference: ['missing', 'identifier'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  uri: ['below', 'above', 'missing'],
  composite: ['missing'],
  special: [],
};

export class CriteriaParser {
  constructor(private readonly registry: SearchParameterRegistry) {}

  /** Throws UnknownParameter for names we do not know, FhirError (400) for names or modifiers we refuse. */
  parse(type: string, name: string, value: string, depth = 0): Criterion {
    if (!VALID_NAME.test(name)) throw badRequest(`"${name}" is not a valid search parameter name`, name);
    if (depth > 8) throw badRequest(`${name}: chains and _has may be nested at most 8 deep`, name);
    if (name.startsWith('_has:')) return this.parseHas(type, name, value, depth);
    const dot = name.indexOf('.');
    if (dot >= 0) return this.parseChain(type, name, name.slice(0, dot), name.slice(dot + 1), value, depth);
    const [code, modifier, ...extra] = name.split(':');
    if (extra.length) throw badRequest(`${name}: a parameter takes at most one modifier`, name);
    const param = this.registry.get(type, code);
    if (!param) throw new UnknownParameter(name, `${type} has no search parameter "${code}"`);
    if (param.type === 'special') throw new UnknownParameter(name, `Search parameter "${code}" (special) is not supported`);
    if (modifier !== undefined) this.checkModifier(type, name, param, modifier);
    return { kind: 'leaf', name, param, modifier, value };
  }

  private checkModifier(type: string, name: string, param: ParamDef, modifier: string): void {
    if (param.code === '_id' && modifier !== 'not') throw badRequest(`${name}: _id supports only :not`, name);
    if (MODIFIERS[param.type].includes(modifier)) return;
    if (param.type === 'reference' && isKnownResourceType(modifier)) {
      if (param.targets.length && !param.targets.includes(modifier)) {
        throw badRequest(`${name}: ${type}.${param.code} cannot refer to ${modifier}`, name);
      }
      return;
    }
    throw badRequest(`${name}: the modifier :${modifier} is not supported for ${param.type} parameters`, name);
  }

  private parseChain(type: string, name: string, head: string, tail: string, value: string, depth: number): ChainCriterion {
    const [code, targetType, ...extra] = head.split(':');
    if (extra.length) throw badRequest(`${name}: a chained parameter takes at most one type modifier`, name);
    const param = this.registry.get(type, code);
    if (!param) throw new UnknownParameter(name, `${type} has no search parameter "${code}"`);
    if (param.type !== 'reference') throw badRequest(`${name}: only reference parameters can be chained; ${code} is a ${param.type}`, name);
    if (targetType !== undefined) this.checkModifier(type, name, param, targetType);
    if (targetType === 'identifier' || targetType === 'missing') throw badRequest(`${name}: :${targetType} cannot be chained`, name);
    const candidates = targetType ? [targetType] : param.targets;
    if (candidates.length === 0) throw badRequest(`${name}: ${type}.${code} may refer to any type; name one, e.g. ${code}:Patient.${tail}`, name);
    const targets: ChainCriterion['targets'] = [];
    let unknown: UnknownParameter | undefined;
    for (const target of candidates) {
      if (!isKnownResourceType(target)) continue;
      try {
        targets.push({ type: target, next: this.parse(target, tail, value, depth + 1) });
      } catch (error) {
        if (!(error instanceof UnknownParameter)) throw error;
        unknown = error;
      }
    }
    if (targets.length === 0) throw new UnknownParameter(name, unknown?.message ?? `No target of ${type}.${code} has "${tail}"`);
    return { kind: 'chain', name, param, targets };
  }

  private parseHas(type: string, name: string, value: string, depth: number): HasCriterion {
    const [, sourceType, refCode, ...rest] = name.split(':');
    const inner = rest.join(':');
    if (!sourceType || !refCode || !inner) throw badRequest(`${name}: the form is _has:Type:reference:parameter`, name);
    if (!isKnownResourceType(sourceType)) throw badRequest(`${name}: "${sourceType}" is not a resource type`, name);
    const refParam = this.registry.get(sourceType, refCode);
    if (!refParam) throw new UnknownParameter(name, `${sourceType} has no search parameter "${refCode}"`);
    if (refParam.type !== 'reference') throw badRequest(`${name}: ${sourceType}.${refCode} is not a reference parameter`, name);
    if (refParam.targets.length && !refParam.targets.includes(type)) {
      throw badRequest(`${name}: ${sourceType}.${refCode} cannot refer to ${type}`, name);
    }
    return { kind: 'has', name, type, sourceType, refParam, next: this.parse(sourceType, inner, value, depth + 1) };
  }
}
