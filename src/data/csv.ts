// A CSV reader for numeric tables: an optional header row, comma (or another one-character)
// delimited fields, RFC 4180 quoting ("a, b" and "" for a quote inside quotes, line breaks inside
// quotes allowed), LF or CRLF line ends, blank lines skipped. Every cell must be a decimal number
// (or nan / inf); anything else is refused naming the line and column.

import { DescentError } from "../core/errors.js";
import { readFileLimited } from "../core/files.js";
import { checkOptions, keysOf } from "../core/options.js";
import { fromArray, type Tensor } from "../tensor/tensor.js";

/** Options of readCsv. */
export interface CsvOptions {
  /** The first row names the columns (default true). */
  header?: boolean;
  /** The column holding the labels: its name (needs a header) or its 0-based index (negative counts from the end). */
  labelColumn?: string | number;
  /** One character (default ","). */
  delimiter?: string;
  /** The largest file read, in bytes (default DEFAULT_CSV_MAX_BYTES). */
  maxBytes?: number;
}

/** The keys of CsvOptions, for checkOptions. */
const CSV_KEYS = keysOf<CsvOptions>()({ header: true, labelColumn: true, delimiter: true, maxBytes: true });

/**
 * 256 MiB. Each byte of text can become a JS string cell and a float64 before the float32
 * tensor is made (several times the file's size in memory), so the bound on text is kept lower
 * than the binary readers'.
 */
export const DEFAULT_CSV_MAX_BYTES = 256 * 2 ** 20;

/** What readCsv returns: float32 features and, with labelColumn, the labels. */
export interface CsvData {
  /** float32 [rows, feature columns]. */
  features: Tensor;
  /** The label column: int32 when every label is an integer, else float32; null without labelColumn. */
  labels: Tensor | null;
  /** The names of the feature columns (from the header, or "0", "1", … by position without one). */
  columns: string[];
}

interface Row {
  line: number;
  cells: string[];
}

/** Splits text into rows of raw cells, remembering the line each row starts on. */
const QUOTE = 34;
const LF = 10;
const CR = 13;

function parseRows(where: string, text: string, delim: string): Row[] {
  const rows: Row[] = [];
  let cells: string[] = [];
  let cell = "";
  let line = 1;
  let rowLine = 1;
  let i = 0;
  let quoted = false; // the current cell was quoted
  let atCellStart = true;
  const endCell = (): void => {
    cells.push(cell);
    cell = "";
    quoted = false;
    atCellStart = true;
  };
  const endRow = (): void => {
    endCell();
    // A blank line is one empty, unquoted cell: skip it.
    if (!(cells.length === 1 && cells[0] === "" && !quotedRow)) rows.push({ line: rowLine, cells });
    cells = [];
    quotedRow = false;
  };
  let quotedRow = false;
  while (i < text.length) {
    const c = text[i]!;
    if (atCellStart && c === '"') {
      // A quoted cell runs to the next quote that is not doubled. It is found first and taken in
      // one slice: appending a character at a time built string chains whose garbage collection
      // took seconds on a cell of a few MB.
      const startLine = line;
      const start = i + 1;
      let k = start;
      for (;;) {
        if (k >= text.length) throw new DescentError(`${where}: line ${startLine}: a quoted field is never closed`);
        if (text.charCodeAt(k) === QUOTE) {
          if (text.charCodeAt(k + 1) !== QUOTE) break;
          k++;
        }
        k++;
      }
      const raw = text.slice(start, k);
      for (let n = raw.indexOf("\n"); n >= 0; n = raw.indexOf("\n", n + 1)) line++;
      cell = raw.includes('""') ? raw.replaceAll('""', '"') : raw;
      i = k + 1;
      quoted = true;
      quotedRow = true;
      atCellStart = false;
      const next = text[i];
      if (next !== undefined && next !== delim && next !== "\n" && next !== "\r") {
        throw new DescentError(`${where}: line ${line}: unexpected ${JSON.stringify(next)} after a closing quote`);
      }
      continue;
    }
    if (c === delim) {
      endCell();
      i++;
    } else if (c === "\n" || c === "\r") {
      endRow();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      if (quoted) throw new DescentError(`${where}: line ${line}: text after a closing quote`);
      // The unquoted run up to the next delimiter or line end, in one slice (see the quoted case).
      const dc = delim.charCodeAt(0);
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === dc || d === LF || d === CR) break;
        j++;
      }
      cell += text.slice(i, j);
      atCellStart = false;
      i = j;
    }
  }
  if (cell !== "" || cells.length > 0 || quoted) endRow();
  return rows;
}

const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, infinity: Infinity };

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * True when s is a decimal number: [+-] digits [. digits] [e [+-] digits], with digits on at
 * least one side of the point. Scanned in one pass; the regex it replaces backtracked
 * quadratically on a long run of digits followed by a letter.
 */
function isDecimal(s: string): boolean {
  let i = 0;
  if (s[i] === "+" || s[i] === "-") i++;
  const start = i;
  while (isDigit(s.charCodeAt(i))) i++;
  let digits = i - start;
  if (s[i] === ".") {
    const frac = ++i;
    while (isDigit(s.charCodeAt(i))) i++;
    digits += i - frac;
  }
  if (digits === 0) return false;
  if (s[i] === "e" || s[i] === "E") {
    i++;
    if (s[i] === "+" || s[i] === "-") i++;
    if (!isDigit(s.charCodeAt(i))) return false;
    while (isDigit(s.charCodeAt(i))) i++;
  }
  return i === s.length;
}

/** A cell's value, or null when it is not a number. */
function parseNumber(cell: string): number | null {
  const s = cell.trim();
  if (isDecimal(s)) return Number(s);
  const sign = s.startsWith("-") ? -1 : 1;
  const special = SPECIAL[s.replace(/^[+-]/, "").toLowerCase()];
  return special === undefined ? null : sign * special;
}

/**
 * Reads a numeric CSV file into a features matrix and (optionally) a labels vector. A file larger
 * than opts.maxBytes is refused before it is read.
 */
export function readCsv(path: string, opts: CsvOptions = {}): CsvData {
  checkOptions("readCsv", opts, CSV_KEYS);
  const where = `readCsv: ${path}`;
  const header = opts.header ?? true;
  const delim = opts.delimiter ?? ",";
  if (delim.length !== 1 || delim === '"' || delim === "\n" || delim === "\r") {
    throw new DescentError(
      `readCsv: delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delim)}`,
    );
  }
  const bytes = readFileLimited(where, path, opts.maxBytes ?? DEFAULT_CSV_MAX_BYTES);
  let text: string;
  try {
    text = bytes.toString("utf8");
  } catch (e) {
    // V8 strings hold at most ~2^29 characters; only a raised maxBytes can get here.
    throw new DescentError(
      `${where}: ${bytes.length} bytes are more text than one string holds: ${(e as Error).message}`,
    );
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = parseRows(where, text, delim);
  // Without a header the columns are named by position, made only when needed: a 2 MB line can
  // hold 2 M columns, and their names alone took seconds of garbage collection.
  let headerNames: string[] | null = null;
  if (header) {
    const first = rows.shift();
    if (!first) throw new DescentError(`${where}: the file is empty (expected a header row)`);
    headerNames = first.cells.map((c) => c.trim());
  }
  const width = headerNames ? headerNames.length : (rows[0]?.cells.length ?? 0);
  const nameOf = (k: number): string => (headerNames ? headerNames[k]! : String(k));

  let label = -1;
  if (opts.labelColumn !== undefined) {
    const lc = opts.labelColumn;
    if (typeof lc === "string") {
      if (!header)
        throw new DescentError(`${where}: labelColumn "${lc}" is a name, but the file has no header (header: false)`);
      label = headerNames!.indexOf(lc);
      if (label < 0) {
        const shown = headerNames!.slice(0, 20).join(", ") + (width > 20 ? `, … (${width} in all)` : "");
        throw new DescentError(`${where}: no column named "${lc}" (columns: ${shown})`);
      }
    } else {
      if (!Number.isInteger(lc) || lc < -width || lc >= width) {
        throw new DescentError(`${where}: labelColumn ${lc} is out of range for ${width} column(s)`);
      }
      label = lc < 0 ? lc + width : lc;
    }
  }

  const nf = label >= 0 ? width - 1 : width;
  const feats = new Float64Array(rows.length * nf);
  const labs = new Float64Array(label >= 0 ? rows.length : 0);
  let integral = true;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.cells.length !== width) {
      throw new DescentError(
        `${where}: line ${row.line} has ${row.cells.length} field(s), expected ${width}${header ? " (as the header)" : " (as the first row)"}`,
      );
    }
    let f = 0;
    for (let c = 0; c < width; c++) {
      const cell = row.cells[c]!;
      const v = parseNumber(cell);
      if (v === null) {
        throw new DescentError(
          `${where}: line ${row.line}, column ${c + 1} (${JSON.stringify(nameOf(c))}): ${JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell)} is not a number`,
        );
      }
      if (c === label) {
        labs[r] = v;
        if (!Number.isInteger(v) || Math.abs(v) > 2147483647) integral = false;
      } else feats[r * nf + f++] = v;
    }
  }
  return {
    features: fromArray("float32", [rows.length, nf], (i) => feats[i]!),
    labels: label >= 0 ? fromArray(integral ? "int32" : "float32", [rows.length], (i) => labs[i]!) : null,
    columns: Array.from({ length: width }, (_, k) => nameOf(k)).filter((_, k) => k !== label),
  };
}
