// The training loop: fit, evaluate, predict, metrics and the progress/JSON-lines loggers.

export { fit, fitAsync } from "./fit.js";
export type { FitAsyncOptions } from "./fit.js";
export { evaluate, predict } from "./evaluate.js";
export type { Batches, LossFn, EvaluateOptions, EvaluateResult } from "./evaluate.js";
export type { FitOptions, History, EarlyStoppingOptions, CheckpointOptions } from "./fit_options.js";
export type { Monitor } from "./fit_state.js";
export { accuracy, correctCount, MetricAccumulator } from "./metrics.js";
export type { MetricName } from "./metrics.js";
export { createLogger, ProgressBar, JsonLinesLogger, formatDuration } from "./progress.js";
export type { EpochLog, LogMode, LogStream, TrainingLogger } from "./progress.js";
export { GradientMonitor, Diagnosis, withModuleContext, DEFAULT_THRESHOLDS } from "./health.js";
export type { GradientMonitorOptions, HealthThresholds, HealthRecord, DiagnosisKind } from "./health.js";
export { writeReport, renderReport } from "./report.js";
export type { ReportOptions, ReportHistory } from "./report.js";
export { trainLanguageModel, lmLoss, lmEvaluate, lmOptimizer, lmSchedule, blockGradNorms } from "./lm.js";
export type { LMTrainOptions, LMStepLog } from "./lm.js";
