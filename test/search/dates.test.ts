import assert from 'node:assert/strict';
import { createResource, startTestServer, type TestServer } from '../helpers/test-server';
import { loadMtmRecords } from '../fixtures/search/mtm-records';
import { expectBadRequest, expectIds, search } from './search-helpers';

/**
 * Dates are ranges: a value covers its whole precision ("1951-07" is all of July), Periods cover
 * start to end, and instants with offsets are compared in UTC. The fixtures hold the edge cases:
 * atorvastatin started at 23:30 on 29 February in Chicago (1 March UTC), Margaret's amlodipine at
 * 03:00 on 1 March in Karachi (29 February UTC), Walter's metformin on New Year's Eve in São Paulo
 * (1 January UTC) for a month.
 */
describe('Search by date', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadMtmRecords(t);
  });
  after(async () => t.close());

  describe('precision', () => {
    it('a year, a month or a day matches values that fall wholly inside it', async () => {
      await expectIds(t, 'Patient', { birthdate: '1948' }, ['rosa-alvarez']);
      await expectIds(t, 'Patient', { birthdate: '1948-03-12' }, ['rosa-alvarez']);
      await expectIds(t, 'Patient', { birthdate: '1951' }, ['margaret-holloway']);
      await expectIds(t, 'Patient', { birthdate: '1951-07' }, ['margaret-holloway']);
      // "born in July 1951" is not known to be "born on 15 July 1951"
      await expectIds(t, 'Patient', { birthdate: '1951-07-15' }, []);
    });

    it('applies every prefix to the ranges', async () => {
      await expectIds(t, 'Patient', { birthdate: 'lt1940' }, ['walter-nguyen']);
      await expectIds(t, 'Patient', { birthdate: 'ge1948-03-12' }, ['rosa-alvarez', 'margaret-holloway']);
      await expectIds(t, 'Patient', { birthdate: 'gt1948-03-12' }, ['margaret-holloway']);
      await expectIds(t, 'Patient', { birthdate: 'le1948-03-12' }, ['rosa-alvarez', 'walter-nguyen']);
      await expectIds(t, 'Patient', { birthdate: 'sa1948-03-12' }, ['margaret-holloway']);
      await expectIds(t, 'Patient', { birthdate: 'eb1948-03-12' }, ['walter-nguyen']);
      await expectIds(t, 'Patient', { birthdate: 'ne1948-03-12' }, ['margaret-holloway', 'walter-nguyen']);
      await expectIds(t, 'Patient', { birthdate: 'eq1939-11-30' }, ['walter-nguyen']);
      // "approximately": within 10% of the distance between now and the value
      await expectIds(t, 'Patient', { birthdate: 'ap1950' }, ['rosa-alvarez', 'margaret-holloway']);
    });

    it('ANDs repeated date parameters into a window', async () => {
      await expectIds(t, 'Patient', [['birthdate', 'ge1940'], ['birthdate', 'lt1950']], ['rosa-alvarez']);
    });
  });

  describe('time zones', () => {
    it('compares instants with offsets in UTC', async () => {
      // after 29 February (UTC): atorvastatin (04:30Z on 1 March) and furosemide ("2024-03"), not Karachi's amlodipine (22:00Z)
      await expectIds(t, 'MedicationStatement', { effective: 'sa2024-02-29' }, ['ms-rosa-atorvastatin', 'ms-nguyen-furosemide']);
      await expectIds(t, 'MedicationStatement', { effective: 'sa2024-02-29T23:00:00-05:00' }, ['ms-rosa-atorvastatin']);
      await expectIds(t, 'MedicationStatement', { effective: 'sa2024-02-29T21:59:59Z' }, [
        'ms-rosa-atorvastatin',
        'ms-holloway-amlodipine',
        'ms-nguyen-furosemide',
      ]);
      await expectIds(t, 'MedicationStatement', { effective: 'sa2024-03-01T02:59:59+05:00' }, [
        'ms-rosa-atorvastatin',
        'ms-holloway-amlodipine',
        'ms-nguyen-furosemide',
      ]);
    });

    it('a dateTime search value without seconds covers its minute', async () => {
      await expectIds(t, 'DetectedIssue', { identified: '2024-03-05T20:20Z' }, ['di-holloway-bleeding']);
      await expectIds(t, 'DetectedIssue', { identified: '2024-03-05T14:20-06:00' }, ['di-holloway-bleeding']);
      await expectIds(t, 'DetectedIssue', { identified: '2024-03-05T14:21-06:00' }, []);
    });
  });

  describe('periods', () => {
    it('a period matches a date that contains it wholly', async () => {
      // São Paulo's New Year's Eve start is 1 January in UTC
      await expectIds(t, 'MedicationStatement', { effective: '2024-01' }, ['ms-nguyen-metformin']);
      await expectIds(t, 'MedicationStatement', { effective: '2023' }, ['ms-rosa-amlodipine']);
      await expectIds(t, 'DetectedIssue', { identified: '2023-06' }, ['di-rosa-adherence']);
      await expectIds(t, 'DetectedIssue', { identified: '2023-06-10' }, []);
    });

    it('periods that overlap the boundary of the searched range', async () => {
      // still running after 31 December 2023: open periods, and Walter's month of metformin
      const after2023 = await search(t, 'MedicationStatement', { effective: 'gt2023-12-31' });
      assert.deepEqual(after2023.ids.sort(), [
        'ms-holloway-amlodipine',
        'ms-holloway-clopidogrel',
        'ms-holloway-warfarin',
        'ms-nguyen-furosemide',
        'ms-nguyen-metformin',
        'ms-rosa-atorvastatin',
        'ms-rosa-lisinopril',
        'ms-rosa-metformin',
      ]);
      await expectIds(t, 'MedicationStatement', { effective: 'lt2023-01-01' }, ['ms-rosa-metformin', 'ms-holloway-warfarin', 'ms-nguyen-acetaminophen']);
      await expectIds(t, 'MedicationStatement', { effective: 'le2019' }, ['ms-nguyen-acetaminophen']);
      await expectIds(t, 'MedicationStatement', { effective: 'eb2024-01-01' }, ['ms-rosa-amlodipine', 'ms-nguyen-acetaminophen']);
      await expectIds(t, 'DetectedIssue', { identified: 'ge2023-06-10' }, ['di-holloway-bleeding', 'di-rosa-adherence', 'di-nguyen-dose']);
      await expectIds(t, 'Task', [['code', 'cmr'], ['status', 'completed'], ['period', 'ge2024-01-01']], ['task-holloway-cmr']);
      await expectIds(t, 'CarePlan', { date: 'ge2024-02-01' }, ['map-holloway', 'map-nguyen', 'map-rosa'].filter((id) => id !== 'map-rosa'));
      assert.equal((await search(t, 'MedicationStatement', { effective: 'ne2019' })).ids.length, 9);
    });
  });

  describe('_lastUpdated', () => {
    it('finds what changed since an instant given with any offset', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const before = new Date();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const created = await createResource(t, { resourceType: 'Practitioner', name: [{ family: 'Ibarra', given: ['Luz'] }] });
      const inKarachi = new Date(before.getTime() + 5 * 3_600_000).toISOString().replace('Z', '+05:00');
      await expectIds(t, 'Practitioner', { _lastUpdated: `gt${before.toISOString()}` }, [created.id]);
      await expectIds(t, 'Practitioner', { _lastUpdated: `ge${inKarachi}` }, [created.id]);
      const older = await search(t, 'Practitioner', { _lastUpdated: `lt${inKarachi}` });
      assert.deepEqual(older.ids.sort(), ['dr-chen', 'dr-patel', 'pharm-okafor']);
    });
  });

  describe('malformed values', () => {
    it('answers 400 naming the parameter', async () => {
      for (const value of ['1948-13', '1948-02-30', '2024-01-01T25:00Z', '2024-01-01T10:00+25:00', '03/12/1948', 'yesterday', '2024-1-1']) {
        await expectBadRequest(t, 'Patient', { birthdate: value }, 'birthdate');
      }
      const message = await expectBadRequest(t, 'MedicationStatement', { effective: 'xx2024' }, 'effective');
      assert.match(message, /"xx" is not a search prefix/);
    });
  });
});
