/**
 * Extensions whose definition we ship (US Core's race, ethnicity, birth sex, ...) are held to it
 * wherever they appear: an extension's url claims its definition, as meta.profile claims a
 * profile. Each one found is validated against its StructureDefinition by Medplum's validator
 * (sub-extension slices and their cardinality, value types, fixed urls, invariants), and the issues
 * are placed at the extension's own path. Extensions we have no definition for are left alone.
 */
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { StructuralStage } from './compiled-stage';
import { holdsExtension } from './extension-scan';

const EXTENSION_KEYS = ['extension', 'modifierExtension'];

export class DefinedExtensions {
  private readonly registered = new Set<string>();

  constructor(
    private readonly definitions: ReadonlyMap<string, StructureDefinition>,
    private readonly medplum: StructuralStage,
  ) {}

  /** Issues for every extension in the resource (at any depth) whose definition we hold. */
  check(resource: Resource): OperationOutcomeIssue[] {
    const issues: OperationOutcomeIssue[] = [];
    // Most resources carry none: find that out without building a path for every element.
    if (!this.definitions.size || !holdsExtension(resource, (url) => this.definitions.has(url))) return issues;
    // An explicit stack: no recursion whose depth the input decides.
    const stack: { value: unknown; path: string }[] = [{ value: resource, path: resource.resourceType }];
    while (stack.length) {
      const { value, path } = stack.pop() as { value: unknown; path: string };
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]` });
        continue;
      }
      if (typeof value !== 'object' || value === null) continue;
      for (const [key, child] of Object.entries(value)) {
        if (EXTENSION_KEYS.includes(key) && Array.isArray(child)) {
          child.forEach((extension, i) => this.checkOne(extension, `${path}.${key}[${i}]`, issues));
        }
        if (typeof child === 'object' && child !== null) stack.push({ value: child, path: `${path}.${key}` });
      }
    }
    return issues;
  }

  private checkOne(extension: unknown, path: string, issues: OperationOutcomeIssue[]): void {
    const url = (extension as { url?: unknown } | null)?.url;
    if (typeof url !== 'string') return;
    const sd = this.definitions.get(url);
    if (sd?.type !== 'Extension') return;
    if (!this.registered.has(url)) {
      this.medplum.register(sd);
      this.registered.add(url);
    }
    for (const found of this.medplum.validate(extension as Resource, url)) {
      const at = found.expression?.[0];
      // Medplum names places from the Extension root ("Extension.extension"); ours start at the resource.
      const expression = at?.startsWith('Extension') ? `${path}${at.slice('Extension'.length)}` : path;
      issues.push({ ...found, expression: [expression] });
    }
  }
}
