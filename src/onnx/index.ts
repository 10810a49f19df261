// The onnx namespace of the public API: export(model, exampleInputs, path, opts) and load(path).
export { exportModel as export, exportBytes } from "./export.js";
export type { ExportOptions } from "./export.js";
export { load, loadBytes, OnnxModule } from "./import.js";
