// The js backend: pure TypeScript, always available, the reference the others are tested against.

import { allocArray } from "../../core/dtype.js";
import type { Backend } from "../backend.js";
import { kernels } from "./kernels.js";
import { matmul } from "./matmul.js";
import { col2im, im2col } from "./window.js";
import { rnnKernels } from "./rnn.js";

export const jsBackend: Backend = {
  name: "js",
  kernels: { ...kernels, matmul, im2col, col2im, ...rnnKernels },
  alloc: allocArray,
};
