/**
 * Coded content for the synthetic population: real RxNorm clinical drug (SCD) codes of medicines
 * common in Medicare MTM populations, each with a typical sig and the indication a pharmacist would
 * record ("Why I use it" on the Personal Medication List).
 */
export interface Medicine {
  rxnorm: string;
  display: string;
  dosage: string;
  reason: string;
  /** SNOMED CT code of the indication. */
  reasonCode: string;
}

const HTN = ['High blood pressure', '38341003'] as const;
const T2D = ['Type 2 diabetes', '44054006'] as const;
const LIPID = ['High cholesterol', '55822004'] as const;
const PAIN = ['Pain', '22253000'] as const;
const AF = ['Atrial fibrillation', '49436004'] as const;
const HF = ['Heart failure', '84114007'] as const;
const HYPO = ['Hypothyroidism', '40930008'] as const;
const ASTHMA = ['Asthma', '195967001'] as const;
const DEPR = ['Depression', '35489007'] as const;
const GOUT = ['Gout', '90560007'] as const;
const CAD = ['Coronary artery disease', '53741008'] as const;
const COPD = ['COPD', '13645005'] as const;
const INFECT = ['Bacterial infection', '87628006'] as const;
const ALLERGY = ['Seasonal allergies', '367498001'] as const;
const ANX = ['Anxiety', '48694002'] as const;
const INFLAM = ['Inflammation', '257552002'] as const;

function med(rxnorm: string, display: string, dosage: string, [reason, reasonCode]: readonly [string, string]): Medicine {
  return { rxnorm, display, dosage, reason, reasonCode };
}

/** Ordered roughly by how often they are dispensed: the generator picks with a Zipf skew. */
export const MEDICINES: readonly Medicine[] = [
  med('314076', 'lisinopril 10 MG Oral Tablet', 'Take 1 tablet by mouth once daily', HTN),
  med('617310', 'atorvastatin 20 MG Oral Tablet', 'Take 1 tablet by mouth at bedtime', LIPID),
  med('860975', '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet', 'Take 1 tablet by mouth with the evening meal', T2D),
  med('197361', 'amlodipine 5 MG Oral Tablet', 'Take 1 tablet by mouth once daily', HTN),
  med('243670', 'aspirin 81 MG Oral Tablet', 'Take 1 tablet by mouth once daily', CAD),
  med('312961', 'simvastatin 20 MG Oral Tablet', 'Take 1 tablet by mouth in the evening', LIPID),
  med('966222', 'levothyroxine sodium 0.05 MG Oral Tablet', 'Take 1 tablet by mouth every morning before breakfast', HYPO),
  med('310798', 'hydrochlorothiazide 25 MG Oral Tablet', 'Take 1 tablet by mouth every morning', HTN),
  med('866412', '24 HR metoprolol succinate 100 MG Extended Release Oral Tablet', 'Take 1 tablet by mouth once daily', HTN),
  med('979492', 'losartan potassium 50 MG Oral Tablet', 'Take 1 tablet by mouth once daily', HTN),
  med('310429', 'furosemide 20 MG Oral Tablet', 'Take 1 tablet by mouth every morning', HF),
  med('309362', 'clopidogrel 75 MG Oral Tablet', 'Take 1 tablet by mouth once daily', CAD),
  med('861007', 'metformin hydrochloride 500 MG Oral Tablet', 'Take 1 tablet by mouth twice daily with meals', T2D),
  med('314077', 'lisinopril 20 MG Oral Tablet', 'Take 1 tablet by mouth once daily', HTN),
  med('855332', 'warfarin sodium 5 MG Oral Tablet', 'Take as directed by the anticoagulation clinic', AF),
  med('200031', 'carvedilol 6.25 MG Oral Tablet', 'Take 1 tablet by mouth twice daily with food', HF),
  med('313782', 'acetaminophen 325 MG Oral Tablet', 'Take 2 tablets by mouth every 6 hours as needed for pain', PAIN),
  med('198440', 'acetaminophen 500 MG Oral Tablet', 'Take 1 tablet by mouth every 6 hours as needed', PAIN),
  med('197319', 'allopurinol 100 MG Oral Tablet', 'Take 1 tablet by mouth once daily', GOUT),
  med('745679', '200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler', 'Inhale 2 puffs every 4 to 6 hours as needed', ASTHMA),
  med('895994', '120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler', 'Inhale 2 puffs twice daily', COPD),
  med('312938', 'sertraline 100 MG Oral Tablet', 'Take 1 tablet by mouth once daily', DEPR),
  med('310385', 'fluoxetine 20 MG Oral Capsule', 'Take 1 capsule by mouth every morning', DEPR),
  med('197381', 'atenolol 50 MG Oral Tablet', 'Take 1 tablet by mouth once daily', HTN),
  med('259255', 'atorvastatin 80 MG Oral Tablet', 'Take 1 tablet by mouth at bedtime', LIPID),
  med('314231', 'simvastatin 10 MG Oral Tablet', 'Take 1 tablet by mouth in the evening', LIPID),
  med('198211', 'simvastatin 40 MG Oral Tablet', 'Take 1 tablet by mouth in the evening', LIPID),
  med('308136', 'amlodipine 2.5 MG Oral Tablet', 'Take 1 tablet by mouth once daily', HTN),
  med('106892', 'insulin isophane, human 70 UNT/ML / insulin regular, human 30 UNT/ML Injectable Suspension', 'Inject 20 units under the skin twice daily before meals', T2D),
  med('198145', 'prednisone 10 MG Oral Tablet', 'Take 1 tablet by mouth once daily for 5 days', INFLAM),
  med('310965', 'ibuprofen 200 MG Oral Tablet', 'Take 1 tablet by mouth every 8 hours as needed', PAIN),
  med('849574', 'naproxen sodium 220 MG Oral Tablet', 'Take 1 tablet by mouth every 12 hours as needed', PAIN),
  med('1049221', 'acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet', 'Take 1 tablet by mouth every 6 hours as needed for severe pain', PAIN),
  med('1014676', 'cetirizine hydrochloride 5 MG Oral Tablet', 'Take 1 tablet by mouth once daily', ALLERGY),
  med('197591', 'diazepam 5 MG Oral Tablet', 'Take 1 tablet by mouth at bedtime as needed', ANX),
  med('562251', 'amoxicillin 250 MG / clavulanate 125 MG Oral Tablet', 'Take 1 tablet by mouth every 12 hours for 10 days', INFECT),
  med('834061', 'penicillin V potassium 250 MG Oral Tablet', 'Take 1 tablet by mouth 4 times daily for 10 days', INFECT),
];

/** DetectedIssue codes from our mtm-detected-issue-type ValueSet (v3-ActCode). */
export const ISSUE_TYPES: ReadonlyArray<{ code: string; display: string; detail: string }> = [
  { code: 'DRG', display: 'Drug Interaction Alert', detail: 'Two of the listed medicines interact; bleeding risk increased.' },
  { code: 'DUPTHPY', display: 'Duplicate Therapy Alert', detail: 'Two medicines of the same therapeutic class are listed.' },
  { code: 'DOSEH', display: 'High Dose Alert', detail: 'The daily dose exceeds the recommended maximum for this patient.' },
  { code: 'COMPLY', display: 'Compliance Alert', detail: 'Refill history shows the patient takes fewer doses than prescribed.' },
  { code: 'DUPTHPCLS', display: 'duplicate therapeutic alass alert', detail: 'Two medicines of the same class are listed.' },
];

/** mitigation.action codes from our mtm-mitigation-action ValueSet (v3-ActCode). */
export const MITIGATIONS: ReadonlyArray<{ code: string; display: string }> = [
  { code: '5', display: 'Consulted Prescriber' },
  { code: '10', display: 'Provided Patient Education' },
  { code: '2', display: 'Assessed Patient' },
];

export const GIVEN_NAMES = ['Maria', 'James', 'Linda', 'Robert', 'Patricia', 'John', 'Barbara', 'William', 'Dorothy', 'Richard'];
export const FAMILY_NAMES = ['Garcia', 'Smith', 'Johnson', 'Nguyen', 'Brown', 'Williams', 'Jones', 'Miller', 'Davis', 'Lopez'];
