/**
 * A small layout layer over pdfkit for forms a patient reads: headings, paragraphs, labelled fields
 * whose blanks are write-in lines, boxes kept whole on one page, and "Page n of N" footers.
 */
import PDFDocument from 'pdfkit';

const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const BODY_SIZE = 11.5;
const LINE_GAP = 3;
/** Space a write-in line takes: enough to write on by hand. */
const WRITE_IN = 22;
const BOX_PADDING = 10;

/** A form field: its label and its value, undefined when blank. */
export type Field = [label: string, value: string | undefined];

export interface PdfInfo {
  title: string;
  author?: string;
  subject: string;
  language: string;
  footer: string;
}

export class PdfWriter {
  readonly doc: PDFKit.PDFDocument;
  private readonly chunks: Buffer[] = [];
  private readonly finished: Promise<Buffer>;

  constructor(private readonly info: PdfInfo) {
    this.doc = new PDFDocument({
      size: 'LETTER',
      margins: { top: 60, bottom: 72, left: 66, right: 66 },
      bufferPages: true,
      lang: info.language,
      displayTitle: true,
      info: { Title: info.title, Author: info.author, Subject: info.subject, Creator: 'MTM FHIR Server' },
    });
    this.doc.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    this.finished = new Promise((resolve, reject) => {
      this.doc.on('end', () => resolve(Buffer.concat(this.chunks)));
      this.doc.on('error', reject);
    });
    this.doc.font(FONT).fontSize(BODY_SIZE);
  }

  get width(): number {
    return this.doc.page.width - this.doc.page.margins.left - this.doc.page.margins.right;
  }

  private get left(): number {
    return this.doc.page.margins.left;
  }

  private get bottom(): number {
    return this.doc.page.height - this.doc.page.margins.bottom;
  }

  /** Starts a new page unless `height` points still fit on this one. */
  ensureRoom(height: number): void {
    if (this.doc.y + height > this.bottom) this.doc.addPage();
  }

  newPage(): void {
    this.doc.addPage();
  }

  bookmark(title: string): void {
    this.doc.outline.addItem(title);
  }

  heading(text: string, size = 17): void {
    this.doc.font(BOLD).fontSize(size);
    this.ensureRoom(this.doc.heightOfString(text, { width: this.width }) + 24);
    this.doc.text(text, this.left, this.doc.y, { width: this.width, lineGap: LINE_GAP });
    this.doc.moveDown(0.4);
    this.doc.font(FONT).fontSize(BODY_SIZE);
  }

  /** A heading kept on the same page as the first `keepWith` points of what follows it. */
  subheading(text: string, options: { x?: number; width?: number; keepWith?: number } = {}): void {
    const x = options.x ?? this.left;
    const width = options.width ?? this.width;
    this.doc.font(BOLD).fontSize(12.5);
    this.ensureRoom(this.doc.heightOfString(text, { width }) + (options.keepWith ?? 24));
    this.doc.text(text, x, this.doc.y, { width, lineGap: LINE_GAP });
    this.doc.moveDown(0.15);
    this.doc.font(FONT).fontSize(BODY_SIZE);
  }

  paragraph(text: string, options: { bold?: boolean; x?: number; width?: number; gap?: number } = {}): void {
    const x = options.x ?? this.left;
    const width = options.width ?? this.width;
    this.doc.font(options.bold ? BOLD : FONT).fontSize(BODY_SIZE);
    this.ensureRoom(this.doc.heightOfString(text, { width, lineGap: LINE_GAP }));
    this.doc.text(text, x, this.doc.y, { width, lineGap: LINE_GAP });
    this.doc.font(FONT);
    this.doc.moveDown(options.gap ?? 0.5);
  }

  bullets(items: string[], options: { numbered?: boolean; x?: number; width?: number } = {}): void {
    const x = options.x ?? this.left;
    const width = options.width ?? this.width;
    items.forEach((item, i) => {
      this.ensureRoom(this.doc.heightOfString(item, { width: width - 18, lineGap: LINE_GAP }));
      const y = this.doc.y;
      this.doc.text(options.numbered ? `${i + 1}.` : '\u2022', x + 2, y, { lineBreak: false });
      this.doc.text(item, x + 18, y, { width: width - 18, lineGap: LINE_GAP });
      this.doc.moveDown(0.25);
    });
    this.doc.moveDown(0.3);
  }

  /** Ruled lines to write on. */
  writeIn(lines: number, x = this.left, width = this.width): void {
    this.ensureRoom(lines * WRITE_IN);
    for (let i = 0; i < lines; i++) {
      const y = this.doc.y + WRITE_IN - 4;
      this.doc.moveTo(x, y).lineTo(x + width, y).lineWidth(0.6).strokeColor('#444').stroke();
      this.doc.y += WRITE_IN;
    }
    this.doc.x = this.left;
    this.doc.moveDown(0.3);
  }

  /** Text lines, or write-in lines when there is nothing recorded. */
  textOrWriteIn(texts: string[], blankLines: number, x = this.left, width = this.width): void {
    if (!texts.length) return this.writeIn(blankLines, x, width);
    if (texts.length === 1) return this.paragraph(texts[0], { x, width });
    this.bullets(texts, { x, width });
  }

  /** Height of one "label: value" cell as `fieldRows` draws it. */
  private cellHeight([label, value]: Field, width: number, labelWidth: number): number {
    this.doc.font(BOLD).fontSize(BODY_SIZE);
    const labelHeight = this.doc.heightOfString(`${label}:`, { width: labelWidth, lineGap: LINE_GAP });
    this.doc.font(FONT);
    const valueHeight = value ? this.doc.heightOfString(value, { width: width - labelWidth - 8, lineGap: LINE_GAP }) : WRITE_IN - 4;
    return Math.max(labelHeight, valueHeight) + 3;
  }

  /** Height of rows of one or two "label: value" cells, as `fieldRows` draws them. */
  measureFieldRows(rows: Field[][], width: number, labelWidth: number): number {
    return rows.reduce((sum, row) => sum + Math.max(...row.map((cell) => this.cellHeight(cell, width / row.length, labelWidth))), 0);
  }

  /** Rows of one or two "label: value" cells side by side; a missing value is a write-in line. */
  fieldRows(rows: Field[][], x: number, width: number, labelWidth: number): void {
    for (const row of rows) {
      const cellWidth = width / row.length;
      const height = this.measureFieldRows([row], width, labelWidth);
      this.ensureRoom(height);
      const y = this.doc.y;
      row.forEach(([label, value], i) => {
        const cellX = x + i * cellWidth;
        const valueX = cellX + labelWidth + 4;
        const valueWidth = cellWidth - labelWidth - 8;
        this.doc.font(BOLD).fontSize(BODY_SIZE).text(`${label}:`, cellX, y, { width: labelWidth, lineGap: LINE_GAP });
        this.doc.font(FONT);
        if (value) {
          this.doc.text(value, valueX, y, { width: valueWidth, lineGap: LINE_GAP });
        } else {
          const lineY = y + WRITE_IN - 9;
          this.doc.moveTo(valueX, lineY).lineTo(valueX + valueWidth, lineY).lineWidth(0.6).strokeColor('#444').stroke();
        }
      });
      this.doc.y = y + height;
    }
    this.doc.x = this.left;
  }

  /**
   * Draws `content` inside a ruled box. The box starts on a new page when `height` does not fit
   * on this one; content taller than a page is drawn without the box rather than cut.
   */
  box(height: number, content: (x: number, width: number) => void): void {
    const full = height + 2 * BOX_PADDING;
    const pageRoom = this.bottom - this.doc.page.margins.top;
    if (full > pageRoom) {
      content(this.left, this.width);
      return;
    }
    this.ensureRoom(full);
    const top = this.doc.y;
    this.doc.y = top + BOX_PADDING;
    content(this.left + BOX_PADDING, this.width - 2 * BOX_PADDING);
    const bottom = Math.max(this.doc.y, top + full - BOX_PADDING) + BOX_PADDING - 6;
    this.doc.rect(this.left, top, this.width, bottom - top).lineWidth(1.2).strokeColor('#222').stroke();
    this.doc.x = this.left;
    this.doc.y = bottom + 10;
  }

  textHeight(text: string, width: number, bold = false, size = BODY_SIZE): number {
    this.doc.font(bold ? BOLD : FONT).fontSize(size);
    const h = this.doc.heightOfString(text, { width, lineGap: LINE_GAP });
    this.doc.font(FONT).fontSize(BODY_SIZE);
    return h;
  }

  /** Adds the footers and returns the finished file. */
  async finish(): Promise<Buffer> {
    const range = this.doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      this.doc.switchToPage(i);
      const bottomMargin = this.doc.page.margins.bottom;
      // Writing inside the bottom margin would make pdfkit start a new page; lift it while writing.
      this.doc.page.margins.bottom = 0;
      this.doc.font(FONT).fontSize(9).fillColor('#333');
      const y = this.doc.page.height - 44;
      this.doc.text(this.info.footer, this.left, y, { width: this.width / 2, lineBreak: false });
      this.doc.text(`Page ${i + 1 - range.start} of ${range.count}`, this.left + this.width / 2, y, { width: this.width / 2, align: 'right', lineBreak: false });
      this.doc.page.margins.bottom = bottomMargin;
      this.doc.fillColor('#000');
    }
    this.doc.end();
    return this.finished;
  }
}
