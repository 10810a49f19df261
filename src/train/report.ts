// The training report: one self-contained HTML file (inline CSS, inline SVG, a little inline JS for
// hover read-outs; no network) with loss and metric curves, the learning rate, per-layer gradient
// norms as curves and as a layer × step heat map, dead/saturated fractions, update ratios and the
// GradientMonitor's diagnoses. The charts are plain SVG written here, so the file renders without
// JavaScript and needs no charting library.

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DescentError } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { writeTextAtomic } from "../io/atomic.js";
import { fmt, type Diagnosis, type GradientMonitor } from "./health.js";

/**
 * Per-epoch metrics: fit's History (its numeric arrays are used: loss, accuracy, valLoss,
 * valAccuracy, lr…), an object of number arrays, or an array of per-epoch records.
 */
/** fit's History, an object of per-epoch number arrays, or an array of per-epoch records. */
export type ReportHistory = object | readonly object[];

/**
 * What writeReport and renderReport draw: training curves from a history, and a GradientMonitor's charts and diagnoses.
 */
export interface ReportOptions {
  /** fit's History (or a list of epoch logs) for the loss, accuracy and lr curves. */
  history?: ReportHistory;
  /** A GradientMonitor whose records and diagnoses are drawn. */
  monitor?: GradientMonitor;
  /** The page's title. */
  title?: string;
}

/** The keys of ReportOptions, for checkOptions. */
const REPORT_KEYS = keysOf<ReportOptions>()({ history: true, monitor: true, title: true });

interface Series {
  name: string;
  xs: readonly number[];
  ys: readonly number[];
  color: string;
  dashed?: boolean;
}

interface ChartData {
  log: boolean;
  x0: number;
  x1: number;
  series: { name: string; color: string; xs: readonly number[]; ys: readonly number[] }[];
}

const W = 640;
const H = 300;
const M = { l: 62, r: 14, t: 14, b: 38 };
const PW = W - M.l - M.r;
const PH = H - M.t - M.b;
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"];
const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const r2 = (x: number) => Math.round(x * 100) / 100;

/** A colour on the viridis ramp for t in [0, 1] (dark = small / early, yellow = large / late). */
export function viridis(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  const ch = (k: number) =>
    Math.round(parseInt(a.slice(k, k + 2), 16) * (1 - f) + parseInt(b.slice(k, k + 2), 16) * f)
      .toString(16)
      .padStart(2, "0");
  return `#${ch(1)}${ch(3)}${ch(5)}`;
}

/** About n round-numbered ticks covering [lo, hi]. */
function linearTicks(lo: number, hi: number, n = 5): number[] {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Draws series as an SVG line chart; on a log axis values <= 0 or non-finite break the line. */
function lineChart(
  id: number,
  series: Series[],
  opts: { xLabel: string; yLabel: string; log?: boolean; yMin?: number; yMax?: number },
): { svg: string; data: ChartData } {
  const log = opts.log ?? false;
  const tr = (y: number) => (log ? Math.log10(y) : y);
  const ok = (y: number) => Number.isFinite(y) && (!log || y > 0);
  const xsAll = series.flatMap((s) => s.xs);
  const ysAll = series.flatMap((s) => s.ys.filter(ok).map(tr));
  let x0 = Math.min(...xsAll);
  let x1 = Math.max(...xsAll);
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x0 + 1];
  let y0 = opts.yMin ?? (ysAll.length ? Math.min(...ysAll) : 0);
  let y1 = opts.yMax ?? (ysAll.length ? Math.max(...ysAll) : 1);
  if (log) [y0, y1] = [Math.floor(y0), Math.ceil(y1)];
  if (!(y1 > y0)) [y0, y1] = [y0 - (log ? 1 : Math.abs(y0) * 0.1 || 1), y1 + (log ? 1 : Math.abs(y1) * 0.1 || 1)];
  if (!log && opts.yMin === undefined) y0 -= (y1 - y0) * 0.04;
  if (!log && opts.yMax === undefined) y1 += (y1 - y0) * 0.04;
  const px = (x: number) => r2(M.l + ((x - x0) / (x1 - x0)) * PW);
  const py = (y: number) => r2(M.t + PH - ((y - y0) / (y1 - y0)) * PH);
  const parts: string[] = [];
  const yTicks = log
    ? Array.from({ length: y1 - y0 + 1 }, (_, i) => y0 + i).filter(
        (_, i, a) => a.length <= 9 || i % Math.ceil(a.length / 8) === 0,
      )
    : linearTicks(y0, y1);
  for (const t of yTicks) {
    parts.push(`<line class="grid" x1="${M.l}" x2="${M.l + PW}" y1="${py(t)}" y2="${py(t)}"/>`);
    parts.push(
      `<text class="tick" x="${M.l - 6}" y="${py(t) + 4}" text-anchor="end">${log ? `1e${t}` : fmt(t)}</text>`,
    );
  }
  const integral = xsAll.every(Number.isInteger);
  for (const t of linearTicks(x0, x1, 6).filter((v) => Number.isInteger(v) || !integral)) {
    parts.push(`<line class="grid" x1="${px(t)}" x2="${px(t)}" y1="${M.t}" y2="${M.t + PH}"/>`);
    parts.push(`<text class="tick" x="${px(t)}" y="${M.t + PH + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(`<rect class="frame" x="${M.l}" y="${M.t}" width="${PW}" height="${PH}"/>`);
  for (const s of series) {
    let d = "";
    let pen = false;
    s.xs.forEach((x, i) => {
      const y = s.ys[i]!;
      if (!ok(y)) return void (pen = false);
      d += `${pen ? "L" : "M"}${px(x)} ${py(tr(y))}`;
      pen = true;
    });
    const dots =
      s.xs.length <= 40
        ? s.xs.map((x, i) => (ok(s.ys[i]!) ? `<circle cx="${px(x)}" cy="${py(tr(s.ys[i]!))}" r="2.5"/>` : "")).join("")
        : "";
    parts.push(
      `<g class="series" stroke="${s.color}" fill="${s.color}"><path d="${d}" fill="none"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>${dots}</g>`,
    );
  }
  parts.push(`<text class="label" x="${M.l + PW / 2}" y="${H - 4}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(
    `<text class="label" transform="translate(13 ${M.t + PH / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`,
  );
  parts.push(`<line class="cursor" x1="0" x2="0" y1="${M.t}" y2="${M.t + PH}" visibility="hidden"/>`);
  const svg = `<svg class="chart line-chart" data-chart="${id}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" xmlns="http://www.w3.org/2000/svg">${parts.join("")}</svg>`;
  const data: ChartData = {
    log,
    x0,
    x1,
    series: series.map((s) => ({
      name: s.name,
      color: s.color,
      xs: s.xs,
      ys: s.ys.map((y) => (Number.isFinite(y) ? y : NaN)),
    })),
  };
  return { svg, data };
}

function legend(series: Series[]): string {
  return `<div class="legend">${series
    .map((s) => `<span><i style="background:${s.color}${s.dashed ? ";opacity:.6" : ""}"></i>${esc(s.name)}</span>`)
    .join("")}</div>`;
}

/** Rows × columns of log10 values as coloured cells; columns are averaged down to at most 160. */
function heatMap(rows: string[], steps: number[], cells: (number | undefined)[][]): { svg: string; data: unknown } {
  const maxCols = 160;
  const group = Math.max(1, Math.ceil(steps.length / maxCols));
  const cols = Math.ceil(steps.length / group);
  const binned = cells.map((row) =>
    Array.from({ length: cols }, (_, c) => {
      const vs = row
        .slice(c * group, (c + 1) * group)
        .filter((v): v is number => v !== undefined && Number.isFinite(v));
      return vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : undefined;
    }),
  );
  const finite = binned.flat().filter((v): v is number => v !== undefined);
  const lo = finite.length ? Math.floor(Math.min(...finite)) : 0;
  const hi = finite.length ? Math.max(lo + 1, Math.ceil(Math.max(...finite))) : 1;
  const labelW = Math.min(150, 12 + 6.5 * Math.max(...rows.map((r) => r.length), 4));
  const rowH = Math.max(9, Math.min(18, 420 / Math.max(1, rows.length)));
  const plotW = W - labelW - 70;
  const cw = plotW / cols;
  const h = M.t + rows.length * rowH + 34;
  const parts: string[] = [];
  rows.forEach((name, r) => {
    const y = r2(M.t + r * rowH);
    const fs = Math.min(11, rowH);
    parts.push(
      `<text class="tick" font-size="${fs}" x="${labelW - 6}" y="${r2(y + rowH / 2 + fs * 0.35)}" text-anchor="end">${esc(name)}</text>`,
    );
    // Neighbouring cells of the same (quantised) colour are drawn as one rect: far smaller files.
    let c = 0;
    while (c < cols) {
      const v = binned[r]![c];
      const color = v === undefined ? "#eeeeee" : viridis(Math.round(((v - lo) / (hi - lo)) * 48) / 48);
      let e = c + 1;
      while (e < cols) {
        const w = binned[r]![e];
        const cw2 = w === undefined ? "#eeeeee" : viridis(Math.round(((w - lo) / (hi - lo)) * 48) / 48);
        if (cw2 !== color) break;
        e++;
      }
      parts.push(
        `<rect x="${r2(labelW + c * cw)}" y="${y}" width="${r2((e - c) * cw + 0.3)}" height="${r2(rowH)}" fill="${color}"/>`,
      );
      c = e;
    }
  });
  const bottom = M.t + rows.length * rowH;
  for (const t of linearTicks(0, cols - 1, 6).filter(Number.isInteger)) {
    const step = steps[Math.min(steps.length - 1, t * group)]!;
    parts.push(
      `<text class="tick" x="${r2(labelW + (t + 0.5) * cw)}" y="${bottom + 14}" text-anchor="middle">${step}</text>`,
    );
  }
  parts.push(
    `<text class="label" x="${labelW + plotW / 2}" y="${bottom + 30}" text-anchor="middle">step${group > 1 ? ` (${group} steps per column)` : ""}</text>`,
  );
  // Colour bar.
  const bx = W - 46;
  const bh = Math.max(60, rows.length * rowH);
  for (let i = 0; i < 24; i++)
    parts.push(
      `<rect x="${bx}" y="${r2(M.t + (bh * i) / 24)}" width="12" height="${r2(bh / 24 + 0.5)}" fill="${viridis(1 - i / 23)}"/>`,
    );
  parts.push(`<text class="tick" x="${bx + 16}" y="${M.t + 8}">1e${hi}</text>`);
  parts.push(`<text class="tick" x="${bx + 16}" y="${M.t + bh}">1e${lo}</text>`);
  const svg = `<svg class="chart heat-map" viewBox="0 0 ${W} ${Math.max(h, M.t + bh + 34)}" width="${W}" height="${Math.max(h, M.t + bh + 34)}" role="img" xmlns="http://www.w3.org/2000/svg" data-x="${r2(labelW)}" data-y="${M.t}" data-cw="${cw}" data-rh="${rowH}">${parts.join("")}</svg>`;
  return {
    svg,
    data: {
      rows,
      steps: Array.from({ length: cols }, (_, c) => steps[c * group]!),
      group,
      cells: binned.map((r) => r.map((v) => (v === undefined ? null : Number(v.toFixed(2))))),
    },
  };
}

/** Named numeric per-epoch series from any of the accepted history shapes. */
function historySeries(h: ReportHistory | undefined): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (!h) return out;
  const rows = Array.isArray(h)
    ? (h as readonly Record<string, unknown>[])
    : Object.values(h as Record<string, unknown>).some(
          (v) => Array.isArray(v) && v.length > 0 && typeof v[0] === "number",
        )
      ? null
      : (((h as Record<string, unknown>).epochs as Record<string, unknown>[] | undefined) ?? []);
  if (rows) {
    for (const row of rows)
      for (const [k, v] of Object.entries(row)) if (typeof v === "number") out.set(k, [...(out.get(k) ?? []), v]);
  } else {
    for (const [k, v] of Object.entries(h as Record<string, unknown>))
      if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number")) out.set(k, v as number[]);
  }
  return out;
}

const HIDDEN = new Set(["epoch", "samples", "seconds", "steps", "bestEpoch", "bestValue"]);

function section(title: string, body: string, note = "", wide = false): string {
  return `<section${wide ? ' class="wide"' : ""}><h2>${esc(title)}</h2>${note ? `<p class="note">${note}</p>` : ""}${body}</section>`;
}

function diagnosesHtml(ds: Diagnosis[], recorded: number): string {
  if (ds.length === 0)
    return `<p class="ok">No problems found in ${recorded} recorded step${recorded === 1 ? "" : "s"}: no threshold was crossed.</p>`;
  return `<ul class="diagnoses">${ds
    .map(
      (d) =>
        `<li class="${d.severity}" data-kind="${d.kind}"><b>${esc(d.severity)}</b> ${esc(d.message)}<ul>${d.remedies
          .map((r) => `<li>${esc(r)}</li>`)
          .join("")}</ul></li>`,
    )
    .join("")}</ul>`;
}

/** The whole HTML document as a string (writeReport writes it). */
export function renderReport(opts: ReportOptions): string {
  checkOptions("renderReport", opts, REPORT_KEYS);
  const title = opts.title ?? "Descent training report";
  const sections: string[] = [];
  const charts: ChartData[] = [];
  const add = (title: string, series: Series[], o: Parameters<typeof lineChart>[2], note = "") => {
    if (series.length === 0 || series.every((s) => s.xs.length === 0)) return;
    const c = lineChart(charts.length, series, o);
    charts.push(c.data);
    sections.push(section(title, `${c.svg}${legend(series)}`, note));
  };

  const hist = historySeries(opts.history);
  const epochs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const pick = (keys: string[]) =>
    keys.map((k, i) => ({
      name: k,
      xs: epochs(hist.get(k)!.length),
      ys: hist.get(k)!,
      color: PALETTE[i % PALETTE.length]!,
    }));
  const keys = [...hist.keys()].filter((k) => !HIDDEN.has(k));
  add("Loss", pick(keys.filter((k) => /loss/i.test(k))), { xLabel: "epoch", yLabel: "loss" });
  add("Metrics", pick(keys.filter((k) => !/loss/i.test(k) && k !== "lr")), { xLabel: "epoch", yLabel: "value" });
  add("Learning rate", pick(keys.filter((k) => k === "lr")), { xLabel: "epoch", yLabel: "learning rate" });

  const mon = opts.monitor;
  let summary = "";
  if (mon && mon.records.length > 0) {
    const recs = mon.records;
    const steps = recs.map((r) => r.step);
    const names = mon.parameterNames.filter((n) => recs.some((r) => r.gradNorms[n] !== undefined));
    const weights = new Set(
      mon.model
        .namedParameters()
        .filter(([, p]) => p.ndim >= 2)
        .map(([n]) => n),
    );
    const lineNames = names.filter((n) => weights.has(n));
    const shade = (i: number, n: number) => viridis(n <= 1 ? 0.5 : (i / (n - 1)) * 0.92);
    const perLayer = (key: "gradNorms" | "updateRatios") =>
      lineNames.map((n, i) => ({
        name: n,
        xs: steps,
        ys: recs.map((r) => r[key][n] ?? NaN),
        color: shade(i, lineNames.length),
      }));
    add(
      "Gradient norm per layer",
      [
        ...perLayer("gradNorms"),
        { name: "total", xs: steps, ys: recs.map((r) => r.totalNorm), color: "#d62728", dashed: true },
      ],
      { xLabel: "step", yLabel: "‖grad‖₂ (log scale)", log: true },
      "Weight matrices, dark = near the input, yellow = near the output; dashed red: the total norm over all parameters.",
    );
    const hm = heatMap(
      names,
      steps,
      names.map((n) => recs.map((r) => (r.gradNorms[n] !== undefined ? Math.log10(r.gradNorms[n]) : undefined))),
    );
    sections.push(
      section(
        "Gradient norm heat map (log10, layer × step)",
        `${hm.svg}<script type="application/json" class="heat-data">${JSON.stringify(hm.data).replace(/</g, "\\u003c")}</script>`,
        "Every parameter, in registration order (input at the top); grey: no gradient.",
      ),
    );
    const act = (key: "dead" | "saturated") =>
      mon.activations
        .filter((a) => a.measures === key)
        .map((a, i) => ({
          name: `${a.name} (${a.type})`,
          xs: steps,
          ys: recs.map((r) => r[key][a.name] ?? NaN),
          color: PALETTE[i % PALETTE.length]!,
        }));
    add(
      "Dead units (ReLU)",
      act("dead"),
      { xLabel: "step", yLabel: "fraction dead", yMin: 0, yMax: 1 },
      "Units whose output is 0 for every sample of the batch.",
    );
    add(
      "Saturated outputs (sigmoid / tanh)",
      act("saturated"),
      { xLabel: "step", yLabel: "fraction saturated", yMin: 0, yMax: 1 },
      `Outputs within ${fmt(mon.thresholds.saturationMargin)} of the activation's bounds.`,
    );
    add(
      "Update-to-weight ratio",
      perLayer("updateRatios"),
      { xLabel: "step", yLabel: "‖Δw‖/‖w‖ (log scale)", log: true },
      "About 1e-3 per step is typical.",
    );
    const last = recs[recs.length - 1]!;
    summary = `<p class="summary">${recs.length} recorded steps (every ${mon.every}), ${names.length} parameters, last step ${last.step}, total gradient norm there ${esc(fmt(last.totalNorm))}.</p>`;
    sections.unshift(section("Diagnoses", diagnosesHtml(mon.diagnose(), recs.length), "", true));
  }
  if (sections.length === 0)
    sections.push(section("Nothing to show", "<p>No history and no gradient records were given.</p>"));

  const data = JSON.stringify(charts).replace(/</g, "\\u003c");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style></head>
<body><header><h1>${esc(title)}</h1><p class="note">Generated by Descent on ${new Date().toISOString().slice(0, 19).replace("T", " ")} UTC. Self-contained: no network access is needed.</p>${summary}</header>
<main>${sections.join("\n")}</main>
<div id="tip" hidden></div>
<script type="application/json" id="chart-data">${data}</script>
<script>${JS}</script>
</body></html>
`;
}

/** Writes the report atomically (a temporary file renamed into place); returns its size in bytes. */
export function writeReport(path: string, opts: ReportOptions): { path: string; bytes: number } {
  if (!path) throw new DescentError("writeReport: path is empty");
  const html = renderReport(opts);
  const full = resolve(path);
  mkdirSync(dirname(full), { recursive: true });
  // The io writer's temp-file naming and its cleanup of files left by killed writers.
  writeTextAtomic("writeReport", full, html);
  return { path: full, bytes: Buffer.byteLength(html) };
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{padding:18px 28px 6px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 6px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,520px),1fr));gap:16px;padding:16px 28px;max-width:1500px}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 14px;min-width:0}
section.wide{grid-column:1/-1}
.note{color:#666;margin:2px 0 8px;font-size:12.5px}.summary{margin:4px 0 8px}
svg.chart{display:block;width:100%;height:auto;font-size:11px}
.grid{stroke:#e6e6e6}.frame{fill:none;stroke:#999}.tick{fill:#555}.label{fill:#333;font-size:12px}
.series path{stroke-width:1.6}.series circle{stroke:none}.cursor{stroke:#444;stroke-dasharray:3 3}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;margin-top:4px}
.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
.diagnoses{padding-left:18px}.diagnoses>li{margin-bottom:8px}.diagnoses ul{color:#444;font-size:13px}
li.critical>b{color:#b00020}li.warning>b{color:#b36b00}.ok{color:#1b7f3b;font-weight:600}
#tip{position:fixed;pointer-events:none;background:rgba(255,255,255,.96);border:1px solid #aaa;border-radius:4px;padding:4px 7px;font-size:12px;white-space:pre;box-shadow:0 1px 4px rgba(0,0,0,.2)}
`;

// Hover read-outs: the nearest point of every series under the cursor, or the heat-map cell.
const JS = `
(function () {
  "use strict";
  var charts = JSON.parse(document.getElementById("chart-data").textContent);
  var tip = document.getElementById("tip");
  function fmt(v) { return v === null || v !== v ? "–" : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(+v.toPrecision(4)); }
  function local(svg, ev) { var p = svg.createSVGPoint(); p.x = ev.clientX; p.y = ev.clientY; return p.matrixTransform(svg.getScreenCTM().inverse()); }
  function show(ev, text) { tip.textContent = text; tip.hidden = false; tip.style.left = ev.clientX + 14 + "px"; tip.style.top = ev.clientY + 10 + "px"; }
  function hide() { tip.hidden = true; }
  document.querySelectorAll("svg.line-chart").forEach(function (svg) {
    var c = charts[+svg.getAttribute("data-chart")];
    var cursor = svg.querySelector(".cursor");
    svg.addEventListener("mousemove", function (ev) {
      var p = local(svg, ev);
      var x = c.x0 + ((p.x - ${M.l}) / ${PW}) * (c.x1 - c.x0);
      var lines = [];
      c.series.slice(0, 14).forEach(function (s) {
        var best = 0;
        for (var i = 1; i < s.xs.length; i++) if (Math.abs(s.xs[i] - x) < Math.abs(s.xs[best] - x)) best = i;
        if (!lines.length) { lines.push("x = " + s.xs[best]); cursor.setAttribute("x1", ${M.l} + ((s.xs[best] - c.x0) / (c.x1 - c.x0)) * ${PW}); cursor.setAttribute("x2", cursor.getAttribute("x1")); }
        lines.push(s.name + ": " + fmt(s.ys[best]));
      });
      if (c.series.length > 14) lines.push("… " + (c.series.length - 14) + " more");
      cursor.setAttribute("visibility", "visible");
      show(ev, lines.join("\\n"));
    });
    svg.addEventListener("mouseleave", function () { cursor.setAttribute("visibility", "hidden"); hide(); });
  });
  document.querySelectorAll("svg.heat-map").forEach(function (svg) {
    var d = JSON.parse(svg.parentNode.querySelector(".heat-data").textContent);
    var x0 = +svg.dataset.x, y0 = +svg.dataset.y, cw = +svg.dataset.cw, rh = +svg.dataset.rh;
    svg.addEventListener("mousemove", function (ev) {
      var p = local(svg, ev), c = Math.floor((p.x - x0) / cw), r = Math.floor((p.y - y0) / rh);
      if (r < 0 || r >= d.rows.length || c < 0 || c >= d.steps.length) return hide();
      var v = d.cells[r][c];
      show(ev, d.rows[r] + "\\nstep " + d.steps[c] + (d.group > 1 ? "–" + (d.steps[c] + d.group - 1) : "") + "\\n‖grad‖ = " + (v === null ? "–" : "1e" + v.toFixed(2)));
    });
    svg.addEventListener("mouseleave", hide);
  });
  document.body.setAttribute("data-charts-ready", String(document.querySelectorAll("svg.chart").length));
})();
`;
