/**
 * Checks every use of an extension that R4 itself defines (core-extensions.ts), wherever it is in a
 * resource (contained resources and Bundle entries too): that it appears where its definition's
 * context allows, that its value has one of the allowed types (or that a complex one has no value),
 * that its parts are known and counted right, and that modifier extensions sit in modifierExtension
 * and others do not. Extensions defined elsewhere (profiles, IGs) are the profile stage's business.
 *
 * The walk knows each element's definition path and type from the fhirpath R4 model, which is what
 * a context names: a resource ('Patient'), a path ('Questionnaire.item', 'HumanName.family'), a type
 * ('CodeableConcept', 'date') or 'Element'. One iterative walk: input depth cannot exhaust the stack.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import r4model from 'fhirpath/fhir-context/r4';
import { issue } from '../fhir/outcome';
import type { CoreExtension, ValueRule } from './core-extensions';
import { coreExtensions } from './core-extensions';
import { holdsExtension } from './extension-scan';

interface R4Model {
  path2Type: Record<string, string>;
  type2Parent: Record<string, string>;
  pathsDefinedElsewhere: Record<string, string>;
}
const model = r4model as unknown as R4Model;

/** Past this many, more extension issues in one resource are noise. */
const MAX_ISSUES = 20;

interface Frame {
  value: Record<string, unknown>;
  /** The FHIRPath of this element in the resource, with indexes (for issues). */
  path: string;
  /** The path without indexes, restarting at each resource: what a path context such as 'HumanName.family' or 'StructureDefinition.snapshot.element.binding.valueSet' is compared with. */
  logical: string;
  /** Where this element's children are defined: a type name ('HumanName') or a backbone path ('Patient.contact'). */
  base: string;
  /** The element's type and its paths: with 'Element' and the type's ancestors, the names a context may use for it (see allows). */
  type: string;
  paths: readonly string[];
}

export function checkCoreExtensions(resource: Record<string, unknown>, resourceType: string): OperationOutcomeIssue[] {
  const extensions = coreExtensions();
  const issues: OperationOutcomeIssue[] = [];
  // Only a use of a core extension can be reported: without one, the walk below has nothing to find.
  if (!holdsExtension(resource, (url) => extensions.has(url))) return issues;
  const stack: Frame[] = [rootFrame(resource, resourceType, resourceType)];
  while (stack.length && issues.length < MAX_ISSUES) {
    const frame = stack.pop() as Frame;
    for (const key of Object.keys(frame.value)) {
      const child = frame.value[key];
      if (child === null || typeof child !== 'object') continue;
      if (key === 'extension' || key === 'modifierExtension') {
        if (!Array.isArray(child)) continue;
        child.forEach((item, i) => {
          if (!isObject(item)) return;
          const path = `${frame.path}.${key}[${i}]`;
          const known = typeof item.url === 'string' ? extensions.get(item.url) : undefined;
          if (known) checkUse(known, item, key, frame, path, issues);
          const at = `${frame.logical}.extension`;
          stack.push({ value: item, path, logical: at, base: 'Extension', type: 'Extension', paths: [at] });
        });
        continue;
      }
      const primitive = key.startsWith('_');
      const name = primitive ? key.slice(1) : key;
      let definition = `${frame.base}.${name}`;
      const type = model.path2Type[definition] ?? model.path2Type[model.pathsDefinedElsewhere[definition] ?? ''];
      if (!type) continue; // not an element of this type: the structural stage says so
      const at = `${frame.logical}.${name}`;
      const paths = [at, definition];
      const elsewhere = model.pathsDefinedElsewhere[definition];
      if (elsewhere) {
        paths.push(elsewhere);
        definition = elsewhere;
      }
      const items = Array.isArray(child) ? child : [child];
      items.forEach((item, i) => {
        if (!isObject(item)) return;
        const path = `${frame.path}.${key}${Array.isArray(child) ? `[${i}]` : ''}`;
        if (type === 'Resource') {
          if (typeof item.resourceType === 'string' && model.type2Parent[item.resourceType]) stack.push(rootFrame(item, item.resourceType, path));
        } else {
          // An inline element (BackboneElement, Element) has its children under its own path; a data type under the type's name.
          const base = type === 'BackboneElement' || type === 'Element' ? definition : type;
          stack.push({ value: item, path, logical: at, base, type, paths });
        }
      });
    }
  }
  return issues.slice(0, MAX_ISSUES);
}

function checkUse(known: CoreExtension, extension: Record<string, unknown>, key: string, frame: Frame, path: string, issues: OperationOutcomeIssue[]): void {
  if (!known.contexts.some((context) => allows(frame, context))) {
    issues.push(issue('error', 'structure', `The extension ${known.url} may not appear on ${frame.logical}: R4 allows it on ${known.contexts.join(', ')}`, path));
  }
  if (key === 'extension' && known.isModifier) issues.push(issue('error', 'structure', `The extension ${known.url} is a modifier extension: it belongs in modifierExtension`, path));
  if (key === 'modifierExtension' && !known.isModifier) issues.push(issue('error', 'structure', `The extension ${known.url} is not a modifier extension: it belongs in extension`, path));
  checkValue(known, extension, path, `The extension ${known.url}`, issues);
  if (!known.parts.size) return;
  const counts = new Map<string, number>();
  const parts = Array.isArray(extension.extension) ? extension.extension : [];
  parts.forEach((part, i) => {
    if (!isObject(part) || typeof part.url !== 'string') return;
    const rule = known.parts.get(part.url);
    if (!rule) {
      if (!known.openParts && !part.url.includes(':')) issues.push(issue('error', 'structure', `The extension ${known.url} has no part "${part.url}"`, `${path}.extension[${i}]`));
      return;
    }
    counts.set(part.url, (counts.get(part.url) ?? 0) + 1);
    checkValue(rule, part, `${path}.extension[${i}]`, `The part "${part.url}" of ${known.url}`, issues);
  });
  for (const [url, rule] of known.parts) {
    const count = counts.get(url) ?? 0;
    if (count < rule.min) issues.push(issue('error', 'required', `The extension ${known.url} needs its part "${url}"`, path));
    if (count > rule.max) issues.push(issue('error', 'structure', `The extension ${known.url} may have its part "${url}" at most ${rule.max} time(s), not ${count}`, path));
  }
}

function checkValue(rule: ValueRule, extension: Record<string, unknown>, path: string, what: string, issues: OperationOutcomeIssue[]): void {
  // A primitive value may be given by its extensions alone (`_valueString`): it is a value all the same.
  const values = [...new Set(Object.keys(extension).map((k) => (k.startsWith('_') ? k.slice(1) : k)).filter((k) => k.startsWith('value')))];
  if (!rule.types.length) {
    for (const k of values) issues.push(issue('error', 'structure', `${what} has no value of its own (its content is in its parts), so ${k} is not allowed`, `${path}.${k}`));
    return;
  }
  for (const k of values) {
    const type = k.slice('value'.length);
    if (!rule.types.some((t) => t.charAt(0).toUpperCase() + t.slice(1) === type)) {
      issues.push(issue('error', 'structure', `${what} takes a value of type ${rule.types.join(' or ')}, so ${k} is not allowed`, `${path}.${k}`));
    }
  }
  if (rule.required && values.length === 0) issues.push(issue('error', 'required', `${what} needs a value of type ${rule.types.join(' or ')}`, path));
}

/** A resource: its own names, and its children defined under its type. */
function rootFrame(value: Record<string, unknown>, resourceType: string, path: string): Frame {
  return { value, path, logical: resourceType, base: resourceType, type: resourceType, paths: [] };
}

/** Whether a context names this element: one of its paths, its type or an ancestor, or 'Element'. Asked only where an extension is. */
function allows(frame: Frame, context: string): boolean {
  if (context === 'Element' || frame.paths.includes(context)) return true;
  for (let t: string | undefined = frame.type; t; t = model.type2Parent[t]) if (t === context) return true;
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
