/**
 * The CMS Standardized Format for the CMR written summary (form CMS-10396): the three parts in the
 * order the format gives them (cover letter, Medication Action Plan, Personal Medication List), the
 * headings and field labels of each, and the data a summary is filled with. Labels follow the
 * format's wording as summarised in ../shared/notes/mtm-standards.md; the HTML and PDF renderers
 * both take their words from here, so the two always say the same thing in the same order.
 *
 * A value that is undefined (or an empty list) is a blank the patient or provider may fill in:
 * renderers show a write-in space, never a made-up value.
 */

export interface WrittenSummary {
  /** BCP 47 language tag of the document (the patient's preferred English variant, else "en-US"). */
  language: string;
  patient: {
    name?: string;
    birthDate?: string;
    /** The inside address of the cover letter, one line per entry. */
    address: string[];
  };
  letter: {
    /** The date the letter was written (the date the summary is generated). */
    date: string;
    /** The date of the CMR (Task.executionPeriod.start). */
    serviceDate?: string;
    providerName?: string;
    /** How to reach the MTM provider: phone and hours, as recorded. */
    providerContact?: string;
    planName?: string;
  };
  actionPlan: {
    datePrepared?: string;
    items: ActionPlanItem[];
    followUp: string[];
    questions: string[];
  };
  medicationList: {
    datePrepared?: string;
    allergies: string[];
    medicines: MedicineEntry[];
    otherInformation: string[];
  };
}

export interface ActionPlanItem {
  talkedAbout?: string;
  needToDo?: string;
  /** "What I did and when I did it": progress recorded against the item, each with its date. */
  done: string[];
}

export interface MedicineEntry {
  medicine?: string;
  howIUseIt?: string;
  whyIUseIt?: string;
  prescriber?: string;
  dateStarted?: string;
  dateStopped?: string;
  whyStopped?: string;
}

export const PARTS = {
  coverLetter: 'Cover letter',
  actionPlan: 'Medication Action Plan',
  medicationList: 'Personal Medication List',
} as const;

export const DOCUMENT_TITLE = 'Your medication review summary';

export const ACTION_PLAN_LABELS = {
  talkedAbout: 'What we talked about',
  needToDo: 'What I need to do',
  done: 'What I did and when I did it',
  followUp: 'My follow-up plan',
  questions: 'Questions I want to ask',
} as const;

/** The Personal Medication List's fields for each medicine, in the format's order. */
export const MEDICINE_FIELDS: ReadonlyArray<[keyof MedicineEntry, string]> = [
  ['medicine', 'Medicine'],
  ['howIUseIt', 'How I use it'],
  ['whyIUseIt', 'Why I use it'],
  ['prescriber', 'Prescriber'],
  ['dateStarted', 'Date I started'],
  ['dateStopped', 'Date I stopped'],
  ['whyStopped', 'Why I stopped'],
];

export const MEDICATION_LIST_LABELS = {
  allergies: 'Allergies or side effects',
  otherInformation: 'Other information',
} as const;

export const DATE_PREPARED = 'Date prepared';
export const BLANK_TEXT = 'Blank: write it in';

export function actionPlanHeading(s: WrittenSummary): string {
  return `${PARTS.actionPlan} for ${s.patient.name ?? '________'}, DOB: ${s.patient.birthDate ?? '________'}`;
}

export function medicationListHeading(s: WrittenSummary): string {
  return `${PARTS.medicationList} for ${s.patient.name ?? '________'}, DOB: ${s.patient.birthDate ?? '________'}`;
}

/** An introduction: a lead sentence, steps (numbered or bulleted), and what follows them. */
export interface Intro {
  lead: string;
  steps: string[];
  numbered: boolean;
  after: string;
}

/** What the format asks the patient to do with the action plan, before its items. */
export const ACTION_PLAN_INTRO: Intro = {
  lead: 'This action plan will help you get the best results from your medicines if you:',
  steps: [
    'Read "What we talked about."',
    'Take the steps listed in the "What I need to do" boxes.',
    'Fill in "What I did and when I did it."',
    'Fill in "My follow-up plan" and "Questions I want to ask."',
  ],
  numbered: true,
  after: 'Have this action plan with you when you talk with your doctors, pharmacists, and other health care providers. Share it with your family or caregivers too.',
};

export const MEDICATION_LIST_INTRO: Intro = {
  lead: 'This medicine list was made for you after we talked.',
  steps: [
    'Use the blank spaces to add new medicines, with the date you started them.',
    'Cross out medicines when you no longer use them, and write the date and why you stopped.',
    'Ask your doctors, pharmacists, and other health care providers to update this list at every visit.',
  ],
  numbered: false,
  after:
    'Keep this list up to date with prescription medicines, over-the-counter drugs, herbals, vitamins and minerals. If you go to the hospital or emergency room, take this list with you. Share it with your family or caregivers too.',
};

/** The body of the cover letter, paragraph by paragraph; bullets are returned apart. */
export function letterParagraphs(s: WrittenSummary): { opening: string[]; bullets: string[]; closing: string[] } {
  const when = s.letter.serviceDate ? ` on ${s.letter.serviceDate}` : '';
  const contact = s.letter.providerContact ? `please call ${s.letter.providerContact}` : 'please call us';
  const program = s.letter.planName ? `the ${s.letter.planName} Medication Therapy Management (MTM) program` : 'your Medication Therapy Management (MTM) program';
  return {
    opening: [
      `Thank you for talking with me${when} about your health and medicines. Medicare's MTM (Medication Therapy Management) program helps you make sure that your medicines are working.`,
      'Along with this letter are an action plan (Medication Action Plan) and a medicine list (Personal Medication List). The action plan has steps you should take to help you get the best results from your medicines. The medicine list will help you keep track of your medicines and how to use them the right way.',
    ],
    bullets: [
      'Have your action plan and medicine list with you when you talk with your doctors, pharmacists, and other health care providers.',
      'Ask your doctors, pharmacists, and other health care providers to update them at every visit.',
      'Take your medicine list with you if you go to the hospital or emergency room.',
      'Give a copy of the action plan and medicine list to your family or caregivers.',
    ],
    closing: [`If you want to talk about this letter or any of the papers with it, ${contact}. I look forward to working with you and your doctors to help you stay healthy through ${program}.`],
  };
}

export function questionsLine(s: WrittenSummary, about: 'action plan' | 'medicine list'): string {
  const contact = s.letter.providerContact ?? '________';
  const who = s.letter.providerName ? `${s.letter.providerName} at ` : '';
  return `If you have any questions about your ${about}, call ${who}${contact}.`;
}
