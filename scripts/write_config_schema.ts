// Writes schema/config.schema.json, the JSON Schema of `descent train`'s config, from
// src/cli/config_schema.ts (the one source), formatted as `prettier --check` wants, and
// src/cli/config_validators.cjs, the validators ajv compiles from it (scripts/config_validator_code.ts).
// test/cli/config_schema.test.ts fails if either committed file differs from what this writes.
// Run after changing a layer or a config field: npm run schema
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { configSchema } from "../src/cli/config_schema.js";
import { validatorCode } from "./config_validator_code.js";

const path = fileURLToPath(new URL("../schema/config.schema.json", import.meta.url));
const options = { ...(await resolveConfig(path)), filepath: path };
writeFileSync(path, await format(JSON.stringify(configSchema()), options));
console.log(`wrote ${path}`);
const code = fileURLToPath(new URL("../src/cli/config_validators.cjs", import.meta.url));
writeFileSync(code, validatorCode());
console.log(`wrote ${code}`);
