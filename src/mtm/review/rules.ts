/**
 * The automated review's rules. Each names the v3 ActCode it reports under, its severity, the
 * drug classes it uses (ValueSets in profiles/, by canonical URL: the knowledge itself is data)
 * and the public source it follows. CodeSystem mtm-review-rule publishes the same list.
 */
import { MTM_BASE } from '../../conformance/canonical';

const vs = (id: string): string => `${MTM_BASE}/ValueSet/${id}`;

export const CLASS = {
  opioids: vs('mtm-class-opioids'),
  benzodiazepines: vs('mtm-class-benzodiazepines'),
  cnsActive: vs('mtm-class-cns-active'),
  anticholinergics: vs('mtm-class-anticholinergics'),
  statins: vs('mtm-class-statins'),
  raasInhibitors: vs('mtm-class-raas-inhibitors'),
  oralAnticoagulants: vs('mtm-class-oral-anticoagulants'),
  highRiskOlderAdults: vs('mtm-class-high-risk-older-adults'),
  amphetamines: vs('mtm-ddi-amphetamine-derivatives'),
  maoInhibitors: vs('mtm-ddi-mao-inhibitors'),
  ssris: vs('mtm-ddi-ssris-serotonergic'),
  atazanavir: vs('mtm-ddi-atazanavir'),
  protonPumpInhibitors: vs('mtm-ddi-proton-pump-inhibitors'),
  febuxostat: vs('mtm-ddi-febuxostat'),
  azathioprineMercaptopurine: vs('mtm-ddi-azathioprine-mercaptopurine'),
} as const;

export type RuleKind =
  | { kind: 'duplicate-ingredient' }
  | { kind: 'duplicate-class'; class: string }
  | { kind: 'pair'; classes: [string, string] }
  | { kind: 'older-adult-count'; class: string; minimum: number; minAge: number }
  | { kind: 'older-adult-each'; class: string; minAge: number }
  | { kind: 'adherence' };

export interface ReviewRule {
  id: string;
  title: string;
  code: string;
  codeDisplay: string;
  severity: 'high' | 'moderate' | 'low';
  source: string;
  check: RuleKind;
}

const PHANSALKAR =
  'Phansalkar S. et al., "High-priority drug-drug interactions for use in electronic health records", JAMIA 2012;19(5):735-743, Table 2 (the ONC high-priority list)';
const PQA = 'Pharmacy Quality Alliance (PQA) measure';
const DUP = (name: string, cls: string): ReviewRule => ({
  id: `duplicate-class-${name}`,
  title: `Two different ${name.replace(/-/g, ' ')} at once`,
  code: 'DUPTHPCLS',
  codeDisplay: 'duplicate therapeutic alass alert',
  severity: 'moderate',
  source: 'Therapeutic duplication within a drug class; the class is a VSAC value set (see the ValueSet for its name, OID and expansion version)',
  check: { kind: 'duplicate-class', class: cls },
});
const DDI = (id: string, title: string, a: string, b: string): ReviewRule => ({
  id,
  title,
  code: 'DRG',
  codeDisplay: 'Drug Interaction Alert',
  severity: 'high',
  source: PHANSALKAR,
  check: { kind: 'pair', classes: [a, b] },
});

export const REVIEW_RULES: readonly ReviewRule[] = [
  {
    id: 'duplicate-ingredient',
    title: 'The same ingredient in two active medicines',
    code: 'DUPTHPY',
    codeDisplay: 'Duplicate Therapy Alert',
    severity: 'moderate',
    source: 'Therapeutic duplication by ingredient; ingredients are read from the RxNorm names (or the text) of the medicines',
    check: { kind: 'duplicate-ingredient' },
  },
  DUP('statins', CLASS.statins),
  DUP('raas-inhibitors', CLASS.raasInhibitors),
  DUP('oral-anticoagulants', CLASS.oralAnticoagulants),
  DUP('benzodiazepines', CLASS.benzodiazepines),
  DDI('ddi-amphetamines-mao-inhibitors', 'Amphetamine or derivative with an MAO inhibitor', CLASS.amphetamines, CLASS.maoInhibitors),
  DDI('ddi-atazanavir-proton-pump-inhibitors', 'Atazanavir with a proton pump inhibitor', CLASS.atazanavir, CLASS.protonPumpInhibitors),
  DDI('ddi-febuxostat-azathioprine-mercaptopurine', 'Febuxostat with azathioprine or mercaptopurine', CLASS.febuxostat, CLASS.azathioprineMercaptopurine),
  DDI('ddi-ssris-mao-inhibitors', 'SSRI or serotonergic agent with an MAO inhibitor', CLASS.ssris, CLASS.maoInhibitors),
  {
    id: 'opioid-benzodiazepine',
    title: 'An opioid and a benzodiazepine at once',
    code: 'DRG',
    codeDisplay: 'Drug Interaction Alert',
    severity: 'high',
    source: `${PQA} "Concurrent Use of Opioids and Benzodiazepines" (COB); classes from the VSAC sets "Schedule II, III and IV Opioid Medications" (2.16.840.1.113762.1.4.1046.241) and "Schedule IV Benzodiazepines" (2.16.840.1.113762.1.4.1125.1)`,
    check: { kind: 'pair', classes: [CLASS.opioids, CLASS.benzodiazepines] },
  },
  {
    id: 'poly-ach',
    title: 'Two or more anticholinergic medicines at 65 or over',
    code: 'GEALRT',
    codeDisplay: 'Geriatric Alert',
    severity: 'moderate',
    source: `${PQA} "Polypharmacy: Use of Multiple Anticholinergic Medications in Older Adults" (Poly-ACH); the class approximates PQA's list from VSAC sets (see the ValueSet)`,
    check: { kind: 'older-adult-count', class: CLASS.anticholinergics, minimum: 2, minAge: 65 },
  },
  {
    id: 'poly-cns',
    title: 'Three or more CNS-active medicines at 65 or over',
    code: 'GEALRT',
    codeDisplay: 'Geriatric Alert',
    severity: 'moderate',
    source: `${PQA} "Polypharmacy: Use of Multiple CNS-Active Medications in Older Adults" (Poly-CNS); the class approximates PQA's list from VSAC sets (see the ValueSet)`,
    check: { kind: 'older-adult-count', class: CLASS.cnsActive, minimum: 3, minAge: 65 },
  },
  {
    id: 'high-risk-older-adults',
    title: 'A potentially harmful medicine at 65 or over',
    code: 'GEALRT',
    codeDisplay: 'Geriatric Alert',
    severity: 'moderate',
    source: 'eCQM "Use of High-Risk Medications in Older Adults" (CMS156) value sets, which follow the AGS Beers Criteria; VSAC expansion "eCQM Update 2025-05-08"',
    check: { kind: 'older-adult-each', class: CLASS.highRiskOlderAdults, minAge: 65 },
  },
  {
    id: 'adherence',
    title: 'Not taken as directed',
    code: 'COMPLY',
    codeDisplay: 'Compliance Alert',
    severity: 'moderate',
    source:
      'Adherence recorded on a MedicationStatement with the MedicationStatement adherence extension the HL7 SMP IG asks senders to pre-adopt (R5 MedicationStatement.adherence; codes from http://hl7.org/fhir/CodeSystem/medication-statement-adherence)',
    check: { kind: 'adherence' },
  },
];

/** Every class URL the rules use. */
export function ruleClassUrls(rules: readonly ReviewRule[] = REVIEW_RULES): string[] {
  const urls = new Set<string>();
  for (const { check } of rules) {
    if (check.kind === 'pair') check.classes.forEach((c) => urls.add(c));
    else if ('class' in check) urls.add(check.class);
  }
  return [...urls];
}
