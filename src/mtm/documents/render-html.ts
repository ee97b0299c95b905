/**
 * The written summary as one accessible HTML page: semantic headings in the format's order, text
 * that reflows at 200% zoom (relative units, one column on narrow screens), blanks as labelled
 * write-in lines, and a print stylesheet that starts each part on a new page.
 */
import {
  ACTION_PLAN_INTRO,
  ACTION_PLAN_LABELS,
  actionPlanHeading,
  BLANK_TEXT,
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
  type WrittenSummary,
} from './standardized-format';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: Verdana, "DejaVu Sans", Arial, sans-serif; font-size: 1.125rem; line-height: 1.6; color: #111; background: #fff; }
main { max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.25rem; margin: 0 0 1.5rem; color: #333; }
h2 { font-size: 1.5rem; line-height: 1.3; margin: 0 0 0.75rem; }
h3 { font-size: 1.15rem; margin: 1.25rem 0 0.25rem; }
.part + .part { margin-top: 3rem; padding-top: 2rem; border-top: 0.2rem solid #555; }
.address, .dates { margin: 0 0 1rem; }
.address p, .dates p { margin: 0; }
.prepared { font-weight: bold; }
.item, .medicine { border: 0.125rem solid #444; border-radius: 0.25rem; padding: 0.5rem 1rem 1rem; margin: 1rem 0; break-inside: avoid; }
.item h3:first-child, .medicine h3:first-child { margin-top: 0.25rem; }
.medicine dl { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: 0.25rem 1rem; margin: 0.5rem 0 0; }
.medicine dt { font-weight: bold; }
.medicine dd { margin: 0; }
.label { font-weight: bold; }
.blank { display: block; min-height: 1.6em; border-bottom: 0.0625rem solid #333; }
.blank.lines { min-height: 4.8em; background: repeating-linear-gradient(to bottom, transparent 0, transparent calc(1.6em - 1px), #333 calc(1.6em - 1px), #333 1.6em); border-bottom: 0; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
ul.plain { padding-left: 1.25rem; }
@media (max-width: 40rem) {
  .medicine dl { grid-template-columns: 1fr; gap: 0; }
  .medicine dd { margin-bottom: 0.5rem; }
}
@media print {
  @page { size: letter; margin: 0.75in; }
  body { font-size: 12pt; }
  main { max-width: none; padding: 0; }
  h1 { display: none; }
  .part + .part { break-before: page; margin-top: 0; padding-top: 0; border-top: 0; }
  .item, .medicine { border-color: #000; }
}
`;

function blank(lines = 1): string {
  return `<span class="blank${lines > 1 ? ' lines' : ''}"><span class="sr-only">${BLANK_TEXT}</span></span>`;
}

function valueOrBlank(value: string | undefined): string {
  return value ? escapeHtml(value) : blank();
}

function intro(i: Intro): string {
  const tag = i.numbered ? 'ol' : 'ul';
  return `<p>${escapeHtml(i.lead)}</p>\n<${tag}>${i.steps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</${tag}>\n<p>${escapeHtml(i.after)}</p>`;
}

function paragraphs(texts: string[]): string {
  return texts.map((t) => `<p>${escapeHtml(t)}</p>`).join('\n');
}

function listOrBlank(texts: string[], lines = 3): string {
  if (!texts.length) return blank(lines);
  if (texts.length === 1) return `<p>${escapeHtml(texts[0])}</p>`;
  return `<ul class="plain">${texts.map((t) => `<li>${escapeHtml(t)}</li>`).join('')}</ul>`;
}

function coverLetter(s: WrittenSummary): string {
  const { opening, bullets, closing } = letterParagraphs(s);
  const address = [s.patient.name, ...s.patient.address].filter((l): l is string => !!l);
  return `<article class="part" id="cover-letter" aria-labelledby="cover-letter-heading">
<h2 id="cover-letter-heading" class="sr-only">${PARTS.coverLetter}</h2>
<div class="dates"><p>${escapeHtml(s.letter.date)}</p></div>
<div class="address">${address.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</div>
<p>Dear ${s.patient.name ? escapeHtml(s.patient.name) : blank()}:</p>
${paragraphs(opening)}
<ul>${bullets.map((b) => `<li>${escapeHtml(b)}</li>`).join('')}</ul>
${paragraphs(closing)}
<p>Sincerely,</p>
<p>${valueOrBlank(s.letter.providerName)}</p>
</article>`;
}

function actionPlan(s: WrittenSummary): string {
  const plan = s.actionPlan;
  const items = (plan.items.length ? plan.items : [{ done: [] }]).map(
    (item, i) => `<section class="item" aria-label="Action plan item ${i + 1}">
<h3>${ACTION_PLAN_LABELS.talkedAbout}</h3>
<p>${valueOrBlank(item.talkedAbout)}</p>
<h3>${ACTION_PLAN_LABELS.needToDo}</h3>
<p>${valueOrBlank(item.needToDo)}</p>
<h3>${ACTION_PLAN_LABELS.done}</h3>
${listOrBlank(item.done, 2)}
</section>`,
  );
  return `<article class="part" id="medication-action-plan" aria-labelledby="map-heading">
<h2 id="map-heading">${escapeHtml(actionPlanHeading(s))}</h2>
${intro(ACTION_PLAN_INTRO)}
<p class="prepared">${DATE_PREPARED}: ${valueOrBlank(plan.datePrepared)}</p>
${items.join('\n')}
<section aria-labelledby="follow-up-heading">
<h3 id="follow-up-heading">${ACTION_PLAN_LABELS.followUp}</h3>
${listOrBlank(plan.followUp)}
</section>
<section aria-labelledby="questions-heading">
<h3 id="questions-heading">${ACTION_PLAN_LABELS.questions}</h3>
${listOrBlank(plan.questions)}
</section>
<p>${escapeHtml(questionsLine(s, 'action plan'))}</p>
</article>`;
}

function medicationList(s: WrittenSummary): string {
  const list = s.medicationList;
  const medicines = list.medicines.map((m, i) => {
    const [, ...rest] = MEDICINE_FIELDS;
    const name = m.medicine ? escapeHtml(m.medicine) : `<span class="sr-only">Medicine ${i + 1}: </span>${blank()}`;
    return `<section class="medicine" aria-label="Medicine ${i + 1} of ${list.medicines.length}">
<h3><span class="label">${MEDICINE_FIELDS[0][1]}:</span> ${name}</h3>
<dl>${rest.map(([key, label]) => `<dt>${label}:</dt><dd>${valueOrBlank(m[key])}</dd>`).join('')}</dl>
</section>`;
  });
  return `<article class="part" id="personal-medication-list" aria-labelledby="pml-heading">
<h2 id="pml-heading">${escapeHtml(medicationListHeading(s))}</h2>
${intro(MEDICATION_LIST_INTRO)}
<p class="prepared">${DATE_PREPARED}: ${valueOrBlank(list.datePrepared)}</p>
<section aria-labelledby="allergies-heading">
<h3 id="allergies-heading">${MEDICATION_LIST_LABELS.allergies}</h3>
${listOrBlank(list.allergies, 2)}
</section>
${medicines.join('\n')}
<section aria-labelledby="other-heading">
<h3 id="other-heading">${MEDICATION_LIST_LABELS.otherInformation}</h3>
${listOrBlank(list.otherInformation)}
</section>
<p>${escapeHtml(questionsLine(s, 'medicine list'))}</p>
</article>`;
}

export function renderSummaryHtml(s: WrittenSummary): string {
  const title = s.patient.name ? `${DOCUMENT_TITLE}: ${s.patient.name}` : DOCUMENT_TITLE;
  return `<!DOCTYPE html>
<html lang="${escapeHtml(s.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${coverLetter(s)}
${actionPlan(s)}
${medicationList(s)}
</main>
</body>
</html>
`;
}
