#!/usr/bin/env node
// node validate.mjs SCHEMA.json VALUE.json [--strict]
// Exits 0 when VALUE validates against SCHEMA (and, with --strict, SCHEMA is a valid strict
// structured-outputs schema); else prints the errors and exits 1. "-" reads a file from stdin.
import fs from 'node:fs';
import { validate, strictSchemaError } from './schema.mjs';

const args = process.argv.slice(2).filter((a) => a !== '--strict');
const strict = process.argv.includes('--strict');
if (args.length !== 2) { process.stderr.write('usage: node validate.mjs SCHEMA.json VALUE.json [--strict]\n'); process.exit(2); }
const read = (f) => JSON.parse(fs.readFileSync(f === '-' ? 0 : f, 'utf8'));
let schema = read(args[0]);
if (schema?.json_schema?.schema) schema = schema.json_schema.schema;   // a whole response_format
const errors = [];
if (strict) { const e = strictSchemaError(schema); if (e) errors.push(`schema: ${e}`); }
let value;
try { value = read(args[1]); } catch (e) { errors.push(`value is not JSON: ${e.message}`); }
if (value !== undefined) errors.push(...validate(value, schema));
if (errors.length) { process.stdout.write(errors.join('\n') + '\n'); process.exit(1); }
