/**
 * The conversion report: plain JSON with stable field names (the CLI's --json, report.json).
 * Tables and plots are rendered from it, never computed separately.
 */
import type { Graph } from '../models/ir.js';
import { graphCosts, totalCost, type NodeCost } from '../models/cost.js';
import type { Shape } from '../models/shapes.js';
import type { Conversion, LayerConversion } from '../convert/convert.js';
import type { MethodDetails } from '../convert/methods.js';
import type { BudgetReport } from '../convert/budget-plan.js';
import type { ConversionErrors } from '../eval/conversion-errors.js';
import type { OutputComparison } from '../eval/metrics.js';
import type { LayerCalibration, CalibrationMode, OutputCheck } from '../eval/calibrate.js';

export interface CalibrationReport {
  /** Which data calibrated the model (never the evaluation data). */
  data: string;
  images: number;
  mode: CalibrationMode;
  backend: string;
  seconds: number;
  layers: LayerCalibration[];
  /** 'joint': network output error on the calibration data after the joint and the last-factor refit, and which was kept. */
  outputCheck?: OutputCheck;
}

/** The conversion's own record of a layer, as report.json shows it (singular values and the output node stay in memory). */
type ConvertedFields = Pick<LayerConversion, 'name' | 'kernel' | 'stride' | 'method' | 'order' | 'form' | 'rank' | 'maxRank' | 'rankCapped' | 'retainedEnergy' | 'kernelRelError' | 'replacedBy'>;

/**
 * One replaced layer in report.json: the conversion's record (LayerConversion), its costs and
 * measured errors, and the method's details (MethodDetails: Tucker-2 ranks, CP fit, Ghost…).
 */
export interface LayerReport extends ConvertedFields, Omit<MethodDetails, 'rankCapped'> {
  macsBefore: number | null;
  macsAfter: number | null;
  paramsBefore: number;
  paramsAfter: number;
  outputRelError: number | null;
  accumulatedRelError: number | null;
  /** With --calibrate: the same two errors of the plain decomposition, before calibration. */
  uncalibrated?: { outputRelError: number; accumulatedRelError: number };
}

export interface ConversionReport {
  tool: 'netdecouple';
  version: string;
  model: string;
  backend: string | null;
  method: string;
  order: string;
  form: string;
  rank: number | null;
  energy: number | null;
  inputShape: Shape | null;
  input: string | null;
  /** How inputs (the measurement input, calibration photos) were brought to the model: preprocess.ts. */
  preprocessing: string | null;
  foldedBatchNorms: { conv: string; batchNorm: string }[];
  layers: LayerReport[];
  kept: { name: string; reason: string }[];
  totals: {
    macsBefore: number | null;
    macsAfter: number | null;
    paramsBefore: number;
    paramsAfter: number;
    theoreticalSpeedup: number | null;
    /** Over the replaced layers only. */
    replacedMacsBefore: number | null;
    replacedMacsAfter: number | null;
  };
  output: OutputComparison | null;
  /** With --calibrate: what calibrated, and the output before calibration. */
  calibration: (CalibrationReport & { uncalibratedOutput: OutputComparison | null }) | null;
  seconds: { decompose: number; evaluate: number | null };
  /** --target-speedup: the speed budget's plan and what it achieved. */
  budget?: BudgetReport;
}

export interface ReportContext {
  version: string;
  model: string;
  backend: string | null;
  inputShapes?: Record<string, Shape>;
  input?: string | null;
  preprocessing?: string | null;
  decomposeSeconds: number;
  evaluateSeconds?: number | null;
  calibration?: CalibrationReport | null;
  uncalibratedErrors?: ConversionErrors | null;
  budget?: BudgetReport | null;
}

function sum(values: (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : (values as number[]).reduce((a, b) => a + b, 0);
}

export function buildReport(original: Graph, conv: Conversion, errors: ConversionErrors | null, ctx: ReportContext): ConversionReport {
  const before = graphCosts(original, ctx.inputShapes);
  const ref = new Map(graphCosts(conv.reference, ctx.inputShapes).map((c) => [c.name, c]));
  const after = new Map(graphCosts(conv.graph, ctx.inputShapes).map((c) => [c.name, c]));
  const errByName = new Map(errors?.layers.map((l) => [l.name, l]) ?? []);
  const layers: LayerReport[] = conv.layers.map((l) => {
    const b = ref.get(l.name) as NodeCost;
    const parts = l.replacedBy.map((n) => after.get(n) as NodeCost);
    const e = errByName.get(l.name);
    const u = ctx.uncalibratedErrors?.layers.find((x) => x.name === l.name);
    return {
      name: l.name, kernel: l.kernel, stride: l.stride, method: l.method, order: l.order, form: l.form,
      rank: l.rank, maxRank: l.maxRank, ...(l.rankCapped ? { rankCapped: l.rankCapped } : {}), retainedEnergy: l.retainedEnergy,
      macsBefore: b.macs, macsAfter: sum(parts.map((p) => p.macs)),
      paramsBefore: b.params, paramsAfter: parts.reduce((a, p) => a + p.params, 0),
      kernelRelError: l.kernelRelError, outputRelError: e?.outputRelError ?? null, accumulatedRelError: e?.accumulatedRelError ?? null,
      ...(u ? { uncalibrated: { outputRelError: u.outputRelError, accumulatedRelError: u.accumulatedRelError } } : {}),
      replacedBy: l.replacedBy,
      ...reportedDetails(l),
    };
  });
  const kept = conv.kept;
  const tb = totalCost(before);
  const ta = totalCost([...after.values()]);
  const inputShape = ctx.inputShapes ? Object.values(ctx.inputShapes)[0] : null;
  return {
    tool: 'netdecouple',
    version: ctx.version,
    model: ctx.model,
    backend: ctx.backend,
    method: conv.options.method,
    order: conv.options.order,
    form: conv.options.form,
    rank: conv.options.rank ?? null,
    energy: conv.options.energy ?? null,
    inputShape,
    input: ctx.input ?? null,
    preprocessing: ctx.preprocessing ?? null,
    foldedBatchNorms: conv.foldedBatchNorms,
    layers,
    kept,
    totals: {
      macsBefore: tb.macs,
      macsAfter: ta.macs,
      paramsBefore: tb.params,
      paramsAfter: ta.params,
      theoreticalSpeedup: tb.macs !== null && ta.macs ? tb.macs / ta.macs : null,
      replacedMacsBefore: sum(layers.map((l) => l.macsBefore)),
      replacedMacsAfter: sum(layers.map((l) => l.macsAfter)),
    },
    output: errors?.output ?? null,
    calibration: ctx.calibration ? { ...ctx.calibration, uncalibratedOutput: ctx.uncalibratedErrors?.output ?? null } : null,
    seconds: { decompose: ctx.decomposeSeconds, evaluate: ctx.evaluateSeconds ?? null },
    ...(ctx.budget ? { budget: ctx.budget } : {}),
  };
}

type ReportedDetails = Omit<MethodDetails, 'rankCapped'>;

/**
 * Where each method detail goes in a layer of report.json (after the common fields). A Record, so
 * a new MethodDetails field does not compile until it has its place here.
 */
const DETAIL_ORDER: Record<keyof ReportedDetails, number> = { ghost: 0, ranks: 1, factorRanks: 2, fit: 3, iterations: 4, converged: 5, degenerate: 6, warnings: 7, rankRule: 8 };
const DETAIL_KEYS = (Object.keys(DETAIL_ORDER) as (keyof ReportedDetails)[]).sort((a, b) => DETAIL_ORDER[a] - DETAIL_ORDER[b]);

/**
 * The method's details as the report shows them: every one a method has, except for ND with a
 * fixed or energy rank, whose record says it all already.
 */
function reportedDetails(l: LayerConversion): ReportedDetails {
  if (l.method === 'nd' && (l.rankRule === undefined || l.rankRule === 'fixed' || l.rankRule.startsWith('energy'))) return {};
  return Object.fromEntries(DETAIL_KEYS.filter((k) => l[k] !== undefined).map((k) => [k, l[k]]));
}
