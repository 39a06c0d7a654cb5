/**
 * Checks a JSON value against a schema of an OpenAPI 3.0 document, strictly: besides types,
 * `required`, `enum` and `nullable`, an object may hold no property its schema does not list
 * (unless it declares `additionalProperties`). A response field added to a view but not to the
 * document, or documented but gone from the view, is a problem either way.
 */
type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
};

type Doc = { components?: { schemas?: Record<string, Schema> } };

function resolve(doc: Doc, schema: Schema): Schema {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const found = doc.components?.schemas?.[name];
    if (!found) throw new Error(`unknown $ref ${schema.$ref}`);
    return resolve(doc, found);
  }
  if (schema.allOf) {
    const parts = schema.allOf.map((s) => resolve(doc, s));
    return {
      type: 'object',
      nullable: schema.nullable,
      properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
      required: parts.flatMap((p) => p.required ?? []),
    };
  }
  return schema;
}

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;

/** Every way `value` departs from `schema`, each naming where. */
export function schemaProblems(doc: Doc, schema: Schema, value: unknown, at = '$'): string[] {
  const s = resolve(doc, schema);
  if (value === null)
    return s.nullable || s.type === undefined ? [] : [`${at}: null, not nullable`];
  if (s.enum && !s.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in enum`];
  const t = typeOf(value);
  switch (s.type) {
    case undefined:
      return [];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: ${t}, not an integer`];
    case 'number':
    case 'string':
    case 'boolean':
      return t === s.type ? [] : [`${at}: ${t}, not a ${s.type}`];
    case 'array':
      if (t !== 'array') return [`${at}: ${t}, not an array`];
      return (value as unknown[]).flatMap((v, i) =>
        s.items ? schemaProblems(doc, s.items, v, `${at}[${i}]`) : [],
      );
    case 'object': {
      if (t !== 'object') return [`${at}: ${t}, not an object`];
      const obj = value as Record<string, unknown>;
      const props = s.properties ?? {};
      const problems = (s.required ?? [])
        .filter((k) => !(k in obj))
        .map((k) => `${at}.${k}: required, missing`);
      for (const [k, v] of Object.entries(obj)) {
        if (props[k]) problems.push(...schemaProblems(doc, props[k], v, `${at}.${k}`));
        else if (typeof s.additionalProperties === 'object')
          problems.push(...schemaProblems(doc, s.additionalProperties, v, `${at}.${k}`));
        else if (s.additionalProperties !== true && s.properties)
          problems.push(`${at}.${k}: not in the document`);
      }
      return problems;
    }
    default:
      return [`${at}: unknown schema type ${s.type}`];
  }
}
