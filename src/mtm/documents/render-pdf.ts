/**
 * The written summary as a PDF, made in-process with pdfkit (no browser at run time): each part of
 * the Standardized Format starts on a new page, action-plan items and medicines are ruled boxes
 * kept whole, and blanks are lines to write on.
 */
import { type Field, PdfWriter } from './pdf-writer';
import {
  ACTION_PLAN_INTRO,
  ACTION_PLAN_LABELS,
  actionPlanHeading,
  DATE_PREPARED,
  DOCUMENT_TITLE,
  type Intro,
  letterParagraphs,
  MEDICATION_LIST_INTRO,
  MEDICATION_LIST_LABELS,
  medicationListHeading,
  MEDICINE_FIELDS,
  PARTS,
  questionsLine,
  type ActionPlanItem,
  type MedicineEntry,
  type WrittenSummary,
} from './standardized-format';

const MEDICINE_LABEL_WIDTH = 92;

function intro(w: PdfWriter, i: Intro): void {
  w.paragraph(i.lead, { gap: 0.2 });
  w.bullets(i.steps, { numbered: i.numbered });
  w.paragraph(i.after);
}

function coverLetter(w: PdfWriter, s: WrittenSummary): void {
  w.bookmark(PARTS.coverLetter);
  w.paragraph(s.letter.date, { gap: 1.2 });
  for (const line of [s.patient.name, ...s.patient.address].filter((l): l is string => !!l)) w.paragraph(line, { gap: 0 });
  w.doc.moveDown(1.2);
  const { opening, bullets, closing } = letterParagraphs(s);
  if (s.patient.name) w.paragraph(`Dear ${s.patient.name}:`);
  else {
    w.paragraph('Dear', { gap: 0 });
    w.writeIn(1, w.doc.page.margins.left, 220);
  }
  for (const p of opening) w.paragraph(p);
  w.bullets(bullets);
  for (const p of closing) w.paragraph(p);
  w.paragraph('Sincerely,', { gap: 1.5 });
  if (s.letter.providerName) w.paragraph(s.letter.providerName);
  else w.writeIn(1, w.doc.page.margins.left, 220);
}

function itemHeight(w: PdfWriter, item: ActionPlanItem, width: number): number {
  const heading = (t: string) => w.textHeight(t, width, true, 12.5) + 4;
  const body = (t: string | undefined) => (t ? w.textHeight(t, width) + 6 : 28);
  const done = item.done.length ? item.done.reduce((h, t) => h + w.textHeight(t, width - 16) + 4, 6) : 2 * 22 + 6;
  return heading(ACTION_PLAN_LABELS.talkedAbout) + body(item.talkedAbout) + heading(ACTION_PLAN_LABELS.needToDo) + body(item.needToDo) + heading(ACTION_PLAN_LABELS.done) + done;
}

function actionPlan(w: PdfWriter, s: WrittenSummary): void {
  w.newPage();
  w.bookmark(PARTS.actionPlan);
  w.heading(actionPlanHeading(s));
  intro(w, ACTION_PLAN_INTRO);
  w.paragraph(`${DATE_PREPARED}: ${s.actionPlan.datePrepared ?? '______________'}`, { bold: true, gap: 0.8 });
  const items = s.actionPlan.items.length ? s.actionPlan.items : [{ done: [] }];
  for (const item of items) {
    w.box(itemHeight(w, item, w.width - 20), (x, width) => {
      w.subheading(ACTION_PLAN_LABELS.talkedAbout, { x, width });
      if (item.talkedAbout) w.paragraph(item.talkedAbout, { x, width });
      else w.writeIn(1, x, width);
      w.subheading(ACTION_PLAN_LABELS.needToDo, { x, width });
      if (item.needToDo) w.paragraph(item.needToDo, { x, width });
      else w.writeIn(1, x, width);
      w.subheading(ACTION_PLAN_LABELS.done, { x, width });
      w.textOrWriteIn(item.done, 2, x, width);
    });
  }
  w.subheading(ACTION_PLAN_LABELS.followUp, { keepWith: 3 * 22 });
  w.textOrWriteIn(s.actionPlan.followUp, 3);
  w.subheading(ACTION_PLAN_LABELS.questions, { keepWith: 3 * 22 });
  w.textOrWriteIn(s.actionPlan.questions, 3);
  w.paragraph(questionsLine(s, 'action plan'));
}

/** The format's fields in its order, paired where two short ones fit side by side. */
function medicineRows(m: MedicineEntry): Field[][] {
  const field = (key: keyof MedicineEntry): Field => [MEDICINE_FIELDS.find(([k]) => k === key)?.[1] ?? key, m[key]];
  return [[field('medicine')], [field('howIUseIt')], [field('whyIUseIt')], [field('prescriber')], [field('dateStarted'), field('dateStopped')], [field('whyStopped')]];
}

function medicationList(w: PdfWriter, s: WrittenSummary): void {
  w.newPage();
  w.bookmark(PARTS.medicationList);
  w.heading(medicationListHeading(s));
  intro(w, MEDICATION_LIST_INTRO);
  w.paragraph(`${DATE_PREPARED}: ${s.medicationList.datePrepared ?? '______________'}`, { bold: true, gap: 0.8 });
  w.subheading(MEDICATION_LIST_LABELS.allergies, { keepWith: 2 * 22 });
  w.textOrWriteIn(s.medicationList.allergies, 2);
  for (const medicine of s.medicationList.medicines) {
    const rows = medicineRows(medicine);
    w.box(w.measureFieldRows(rows, w.width - 20, MEDICINE_LABEL_WIDTH), (x, width) => w.fieldRows(rows, x, width, MEDICINE_LABEL_WIDTH));
  }
  w.subheading(MEDICATION_LIST_LABELS.otherInformation, { keepWith: 3 * 22 });
  w.textOrWriteIn(s.medicationList.otherInformation, 3);
  w.paragraph(questionsLine(s, 'medicine list'));
}

export async function renderSummaryPdf(s: WrittenSummary): Promise<Buffer> {
  const w = new PdfWriter({
    title: s.patient.name ? `${DOCUMENT_TITLE}: ${s.patient.name}` : DOCUMENT_TITLE,
    author: s.letter.providerName,
    subject: `${PARTS.coverLetter}, ${PARTS.actionPlan} and ${PARTS.medicationList} (CMS Standardized Format)`,
    language: s.language,
    footer: [s.patient.name, s.patient.birthDate ? `DOB: ${s.patient.birthDate}` : undefined].filter(Boolean).join(', '),
  });
  coverLetter(w, s);
  actionPlan(w, s);
  medicationList(w, s);
  return w.finish();
}
