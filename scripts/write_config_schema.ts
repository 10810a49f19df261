// Writes schema/config.schema.json, the JSON Schema of `descent train`'s config, from
// src/cli/config_schema.ts (the one source; test/cli/config_schema.test.ts fails if the committed
// file differs from it), formatted as `prettier --check` wants. Run after changing a layer or a
// config field: npm run schema
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { configSchema } from "../src/cli/config_schema.js";

const path = fileURLToPath(new URL("../schema/config.schema.json", import.meta.url));
const options = { ...(await resolveConfig(path)), filepath: path };
writeFileSync(path, await format(JSON.stringify(configSchema()), options));
console.log(`wrote ${path}`);
