// Child process for the kill -9 test (test/io/atomic.test.ts): saves one float32 tensor of
// `mb` megabytes to `path` over and over, every element equal to the save's number, which the
// metadata also records, so a reader can tell an intact file from a torn one. Prints "ready" once
// the first save is complete; runs until killed.

import { save } from "../../../src/io/safetensors.js";
import { tensor } from "../../../src/index.js";

const [path, mbArg, startArg] = process.argv.slice(2);
const n = Math.floor((Number(mbArg) * 1024 * 1024) / 4);
const data = new Float32Array(n);
for (let i = Number(startArg ?? 0); ; i++) {
  data.fill(i);
  save({ w: tensor(data, { shape: [n] }) }, path!, { i: String(i) });
  if (i === Number(startArg ?? 0)) process.stdout.write("ready\n");
}
