import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { baseStructureDefinitions } from '../../src/conformance/base-structure-definitions';
import { generateProfileFiles } from '../../src/conformance/generate';
import { generateSnapshot, pathOfId, SnapshotError } from '../../src/conformance/snapshot';
import { jsonFiles, readJsonFile } from '../../src/conformance/files';
import { regenerateUsCoreSnapshots, US_CORE_DIR } from '../../src/conformance/us-core-import';

const sources = { resolve: (url: string) => baseStructureDefinitions().get(url) };
/** Differential elements as our sources write them: the generator derives path from id. */
type DiffElement = Omit<ElementDefinition, 'path'> & { id: string };
const profile = (type: string, element: DiffElement[]): StructureDefinition => ({
  resourceType: 'StructureDefinition',
  id: 'test',
  url: 'http://example.org/StructureDefinition/test',
  name: 'Test',
  status: 'draft',
  kind: 'resource',
  abstract: false,
  type,
  baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
  derivation: 'constraint',
  differential: { element: element as ElementDefinition[] },
});
const ids = (sd: StructureDefinition): string[] => (sd.snapshot?.element ?? []).map((e) => e.id as string);

describe('profile snapshots', () => {
  it('the committed snapshots in profiles/ are exactly what `npm run profiles` generates from profiles/src', () => {
    const files = generateProfileFiles();
    assert.equal(files.length, fs.readdirSync(path.join(path.dirname(files[0].file), 'src')).filter((f) => f.endsWith('.json')).length);
    for (const { file, content } of files) {
      const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      assert.ok(committed === content, `${path.basename(file)} differs from a fresh generation: run npm run profiles and commit`);
    }
  });

  it('generating twice gives byte-identical output', () => {
    assert.deepEqual(generateProfileFiles(), generateProfileFiles());
  });

  describe('the generator', () => {
    it('narrows cardinality and keeps every base element, in base order', () => {
      const sd = generateSnapshot(profile('MedicationStatement', [{ id: 'MedicationStatement.dateAsserted', min: 1 }]), sources);
      const base = baseStructureDefinitions().get('http://hl7.org/fhir/StructureDefinition/MedicationStatement') as StructureDefinition;
      assert.deepEqual(ids(sd), ids(base));
      assert.equal(sd.snapshot?.element?.find((e) => e.id === 'MedicationStatement.dateAsserted')?.min, 1);
      assert.equal(sd.derivation, 'constraint');
      assert.equal(sd.differential?.element?.[0].path, 'MedicationStatement.dateAsserted', 'paths are filled in from ids');
    });

    it('unfolds a data type when the differential constrains its children (dosage.text)', () => {
      const sd = generateSnapshot(profile('MedicationStatement', [{ id: 'MedicationStatement.dosage.text', min: 1 }]), sources);
      const all = ids(sd);
      const at = all.indexOf('MedicationStatement.dosage');
      assert.equal(all[at + 1], 'MedicationStatement.dosage.id');
      const text = sd.snapshot?.element?.find((e) => e.id === 'MedicationStatement.dosage.text');
      assert.equal(text?.min, 1);
      assert.equal(text?.path, 'MedicationStatement.dosage.text');
      assert.equal(text?.base?.path, 'Dosage.text', 'base stays the data type element');
    });

    it('creates type slices on choice elements and nested slices, each starting at min 0', () => {
      const sd = generateSnapshot(
        profile('MedicationStatement', [
          { id: 'MedicationStatement.medication[x]:medicationCodeableConcept', sliceName: 'medicationCodeableConcept', type: [{ code: 'CodeableConcept' }] },
          { id: 'MedicationStatement.medication[x]:medicationCodeableConcept.coding', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
          { id: 'MedicationStatement.medication[x]:medicationCodeableConcept.coding:rx', sliceName: 'rx', min: 1 },
          { id: 'MedicationStatement.medication[x]:medicationCodeableConcept.coding:rx.system', fixedUri: 'http://example.org/rx' },
        ]),
        sources,
      );
      const element = (id: string) => sd.snapshot?.element?.find((e) => e.id === id);
      assert.deepEqual(element('MedicationStatement.medication[x]')?.slicing?.discriminator, [{ type: 'type', path: '$this' }]);
      assert.equal(element('MedicationStatement.medication[x]:medicationCodeableConcept')?.min, 0);
      assert.equal(element('MedicationStatement.medication[x]:medicationCodeableConcept.coding:rx')?.min, 1);
      const system = element('MedicationStatement.medication[x]:medicationCodeableConcept.coding:rx.system');
      assert.equal(system?.path, 'MedicationStatement.medication[x].coding.system');
      assert.equal(system?.fixedUri, 'http://example.org/rx');
    });

    it('appends constraints with the profile as their source', () => {
      const sd = generateSnapshot(
        profile('Task', [{ id: 'Task', constraint: [{ key: 't-1', severity: 'error', human: 'h', expression: 'true' }] }]),
        sources,
      );
      const added = sd.snapshot?.element?.[0].constraint?.find((c) => c.key === 't-1');
      assert.equal(added?.source, 'http://example.org/StructureDefinition/test');
    });

    const rejects = (name: string, element: DiffElement[], message: RegExp): void => {
      it(`rejects ${name}`, () => {
        assert.throws(() => generateSnapshot(profile('MedicationStatement', element), sources), (e: unknown) => e instanceof SnapshotError && message.test(e.message));
      });
    };
    rejects('a min below the base', [{ id: 'MedicationStatement.status', min: 0 }], /below the base/);
    rejects('a max above the base', [{ id: 'MedicationStatement.subject', max: '*' }], /exceeds the base/);
    rejects('a type the base does not allow', [{ id: 'MedicationStatement.effective[x]', type: [{ code: 'string' }] }], /not allowed by the base/);
    rejects('weakening a required binding', [{ id: 'MedicationStatement.status', binding: { strength: 'extensible', valueSet: 'http://x' } }], /cannot be weakened/);
    rejects('an element that does not exist', [{ id: 'MedicationStatement.dosage.nonsense', min: 1 }], /No element/);
    rejects('a slice without slicing on a non-choice element', [{ id: 'MedicationStatement.note:mine', sliceName: 'mine' }], /no slicing/);

    it('reads a choice element named for one type (valueQuantity) as that type slice, and constrains its children', () => {
      const sd = generateSnapshot(
        profile('Observation', [
          { id: 'Observation.valueQuantity', min: 0, max: '1' },
          { id: 'Observation.valueQuantity.code', min: 1, fixedCode: 'mm[Hg]' },
        ]),
        sources,
      );
      const slice = sd.snapshot?.element?.find((e) => e.id === 'Observation.value[x]:valueQuantity');
      assert.deepEqual(slice?.type, [{ code: 'Quantity' }]);
      assert.equal(slice?.sliceName, 'valueQuantity');
      const code = sd.snapshot?.element?.find((e) => e.id === 'Observation.value[x]:valueQuantity.code');
      assert.equal(code?.min, 1);
      assert.equal(code?.fixedCode, 'mm[Hg]');
    });

    it('slices extensions by url without the differential saying so', () => {
      const sd = generateSnapshot(profile('Patient', [{ id: 'Patient.extension:race', sliceName: 'race', max: '1' }]), sources);
      const extension = sd.snapshot?.element?.find((e) => e.id === 'Patient.extension');
      assert.deepEqual(extension?.slicing?.discriminator, [{ type: 'value', path: 'url' }]);
      assert.equal(sd.snapshot?.element?.find((e) => e.id === 'Patient.extension:race')?.max, '1');
    });

    it('accepts a weakened required binding only when the caller is told of it (profiles published by others)', () => {
      const weakened: string[] = [];
      const diff = [{ id: 'MedicationStatement.status', binding: { strength: 'extensible' as const, valueSet: 'http://x' } }];
      const sd = generateSnapshot(profile('MedicationStatement', diff), { ...sources, weakenedBinding: (id) => void weakened.push(id) });
      assert.deepEqual(weakened, ['MedicationStatement.status']);
      assert.equal(sd.snapshot?.element?.find((e) => e.id === 'MedicationStatement.status')?.binding?.strength, 'extensible');
    });
  });

  describe('US Core 6.1.0 (profiles/us-core)', () => {
    const committed = jsonFiles(US_CORE_DIR)
      .map((file) => readJsonFile<StructureDefinition>(file))
      .filter((r) => r.resourceType === 'StructureDefinition');

    it('each committed snapshot is what our generator makes of its differential (npm run us-core regenerates them)', () => {
      const files = regenerateUsCoreSnapshots(committed);
      assert.ok(files.length >= 55, `${files.length} US Core StructureDefinitions`);
      for (const { file, content } of files) {
        assert.ok(fs.readFileSync(file, 'utf8') === content, `${path.basename(file)} differs from a fresh snapshot: run npm run us-core`);
      }
    });

    it('holds constraints only: no documentation text anywhere', () => {
      const documentation = ['short', 'definition', 'comment', 'requirements', 'mapping', 'description', 'alias'];
      for (const sd of committed) {
        assert.ok(!('description' in sd) && !('text' in sd), sd.id);
        for (const e of [...(sd.snapshot?.element ?? []), ...(sd.differential?.element ?? [])]) {
          for (const key of documentation) assert.ok(!(key in e), `${sd.id} ${e.id} has ${key}`);
          assert.ok(!e.binding || !('description' in e.binding), `${sd.id} ${e.id} binding description`);
        }
      }
    });
  });

  it('pathOfId drops slice names', () => {
    assert.equal(pathOfId('Task.input:deliveryMethod.value[x]'), 'Task.input.value[x]');
  });
});
