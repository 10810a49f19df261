// The js backend: pure TypeScript, always available, the reference the others are tested against.
// It implements every required kernel and registers its fused kernels as accelerations (they are
// what makes optimizer steps, softmax and RNN cells fast here).

import type { Backend } from "../backend.js";
import { hostStorage } from "../storage.js";
import { kernels } from "./kernels.js";
import { matmul } from "./matmul.js";
import { col2im, im2col } from "./window.js";
import { maxPool2d, maxPool2dBackward } from "./pool.js";
import { fusedKernels } from "./fused.js";
import { rnnKernels } from "./rnn.js";
import { normKernels } from "./norm.js";
import { geluKernels } from "./gelu.js";
import { orderKernels } from "./order.js";

export const jsBackend: Backend = {
  name: "js",
  kernels: { ...kernels, matmul, im2col, col2im, maxPool2d, maxPool2dBackward, ...orderKernels },
  accelerations: { ...fusedKernels, ...rnnKernels, ...normKernels, ...geluKernels },
  ...hostStorage,
};
