// Validates responses against the Mastodon OpenAPI description in ../shared (an independent oracle).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCHEMA_FILE = path.resolve(here, '../../../shared/mastodon-openapi/schema.json');

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function instance(): Ajv2020 {
  if (!ajv) {
    const doc = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    ajv.addFormat('iso-639-1', /^[a-z]{2,3}$/);
    ajv.addSchema({ $id: 'mastodon', components: doc.components });
  }
  return ajv;
}

/** Returns the schema errors of `data` as the named component, or an empty list. */
export function schemaErrors(component: string, data: unknown): string[] {
  let validate = compiled.get(component);
  if (!validate) {
    validate = instance().compile({ $ref: `mastodon#/components/schemas/${component}` });
    compiled.set(component, validate);
  }
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}
