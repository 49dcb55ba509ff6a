/**
 * Malformed variants of a Platform answer, for fuzzing our client (response-fuzzing.test.ts).
 *
 * From a clean answer (the `{result: …}` envelope) every field of the result — and, inside string
 * fields that hold base64 / base64url JSON (cipher objects, creation contents, signed wrappers…),
 * every field of that JSON — gets each of: removed, null, a number, a boolean, a string, an empty
 * array, an empty object, a huge value; strings also: invalid base64 characters, cut in half;
 * numbers also: an unknown algorithm number, a negative and a huge number. Plus whole-body
 * variants: truncated JSON, empty, not JSON, wrong envelope types, a huge body.
 *
 * A variant is a function of the live answer body, so it applies to whatever the Platform answers
 * at the time (ids and dates as they are then).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Step = { key: string | number } | { decode: 'base64' | 'base64url' };

export interface Variant {
  /** What was changed, e.g. `result.recipients[0].encryptedKey<base64url>.alg = 99 (unknown algorithm)`. */
  name: string;
  /** For field variants: the field (`result.recipients[0].address`), the change, and the type the field had. */
  field?: string;
  op?: string;
  was?: 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';
  apply: (body: Buffer) => Buffer;
}

const HUGE_STRING = 'A'.repeat(4 * 1024 * 1024);

function describe(path: Step[]): string {
  let out = '';
  for (const s of path) out += 'key' in s ? (typeof s.key === 'number' ? `[${s.key}]` : `${out ? '.' : ''}${s.key}`) : `<${s.decode}>`;
  return out;
}

function decodeJson(text: string): { value: Json; encoding: 'base64' | 'base64url' } | undefined {
  if (text.length < 8 || !/^[A-Za-z0-9+/_=-]+$/.test(text)) return undefined;
  const encoding = /[+/=]/.test(text) ? 'base64' : 'base64url';
  try {
    const decoded = Buffer.from(text, encoding).toString('utf8');
    if (!decoded.startsWith('{') && !decoded.startsWith('[')) return undefined;
    return { value: JSON.parse(decoded) as Json, encoding };
  } catch {
    return undefined;
  }
}

type Op = { name: string; change: (old: Json) => Json | undefined };

const REMOVE = Symbol('remove');

function opsFor(value: Json): Op[] {
  const ops: Op[] = [
    { name: 'removed', change: () => REMOVE as unknown as Json },
    { name: 'null', change: () => null },
    { name: '= 42', change: () => 42 },
    { name: '= true', change: () => true },
    { name: '= "x"', change: () => 'x' },
    { name: '= []', change: () => [] },
    { name: '= {}', change: () => ({}) },
  ];
  if (typeof value === 'string') {
    ops.push(
      { name: 'invalid base64 characters', change: (old) => `${String(old).slice(0, Math.floor(String(old).length / 2))}!*\u00e9${String(old).slice(Math.floor(String(old).length / 2))}` },
      { name: 'cut in half', change: (old) => String(old).slice(0, Math.floor(String(old).length / 2)) },
      { name: 'huge (4 MiB)', change: () => HUGE_STRING },
    );
  } else if (typeof value === 'number') {
    ops.push(
      { name: '= 99 (unknown algorithm)', change: () => 99 },
      { name: '= -1', change: () => -1 },
      { name: '= 1e308', change: () => 1e308 },
      { name: '= "3"', change: (old) => String(old) },
    );
  } else if (Array.isArray(value)) {
    ops.push({ name: '10,000 copies', change: (old) => Array.from({ length: 10_000 }, () => (old as Json[])[0] ?? null) });
  }
  return ops;
}

function applyAt(value: Json, path: Step[], change: (old: Json) => Json | undefined): Json {
  if (path.length === 0) return change(value) as Json;
  const [step, ...rest] = path;
  if ('decode' in step) {
    const decoded = JSON.parse(Buffer.from(value as string, step.decode).toString('utf8')) as Json;
    return Buffer.from(JSON.stringify(applyAt(decoded, rest, change)), 'utf8').toString(step.decode);
  }
  const container = value as Record<string, Json> | Json[];
  const copy: Record<string, Json> | Json[] = Array.isArray(container) ? [...container] : { ...container };
  const next = applyAt((container as Record<string | number, Json>)[step.key], rest, change);
  if ((next as unknown) === REMOVE) {
    if (Array.isArray(copy)) copy.splice(step.key as number, 1);
    else delete copy[step.key as string];
  } else {
    (copy as Record<string | number, Json>)[step.key] = next;
  }
  return copy;
}

function walk(value: Json, path: Step[], depth: number, out: { path: Step[]; value: Json }[]): void {
  if (path.length > 0) out.push({ path, value });
  if (depth <= 0 || value === null) return;
  if (Array.isArray(value)) {
    if (value.length > 0) walk(value[0], [...path, { key: 0 }], depth - 1, out);
  } else if (typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) walk(child, [...path, { key }], depth - 1, out);
  } else if (typeof value === 'string') {
    const decoded = decodeJson(value);
    if (decoded) walk(decoded.value, [...path, { decode: decoded.encoding }], depth, out);
  }
}

/** Field-level variants of a JSON answer `{result: …}` (of a list, the first item's fields). */
export function jsonVariants(clean: Buffer, maxDepth = 6): Variant[] {
  const json = JSON.parse(clean.toString('utf8')) as Json;
  const fields: { path: Step[]; value: Json }[] = [];
  walk((json as { result: Json }).result, [{ key: 'result' }], maxDepth, fields);
  const variants: Variant[] = [];
  for (const { path, value } of fields) {
    if ('decode' in path[path.length - 1]) continue; // the decoded form itself: its fields follow
    const was = value === null ? 'null' : Array.isArray(value) ? 'array' : (typeof value as 'string' | 'number' | 'boolean' | 'object');
    for (const op of opsFor(value)) {
      variants.push({
        name: `${describe(path)} ${op.name}`,
        field: describe(path),
        op: op.name,
        was,
        apply: (body) => Buffer.from(JSON.stringify(applyAt(JSON.parse(body.toString('utf8')) as Json, path, op.change)), 'utf8'),
      });
    }
  }
  return [...wholeBodyVariants(), ...variants];
}

/** Variants of the whole body. */
export function wholeBodyVariants(): Variant[] {
  const fixed = (name: string, text: string): Variant => ({ name, apply: () => Buffer.from(text, 'utf8') });
  return [
    { name: 'body truncated to half', apply: (body) => body.subarray(0, Math.floor(body.length / 2)) },
    { name: 'body truncated to 1 byte', apply: (body) => body.subarray(0, 1) },
    { name: 'body with one byte less', apply: (body) => body.subarray(0, body.length - 1) },
    fixed('empty body', ''),
    fixed('not JSON', '<html>Bad Gateway</html>'),
    fixed('JSON null', 'null'),
    fixed('JSON array', '[]'),
    fixed('result null', '{"result":null}'),
    fixed('result a string', '{"result":"x"}'),
    fixed('result a number', '{"result":1}'),
    fixed('result an empty object', '{"result":{}}'),
    fixed('result an empty array', '{"result":[]}'),
    fixed('result an array of null', '{"result":[null]}'),
    { name: 'huge body (20 MiB of JSON string)', apply: () => Buffer.from(JSON.stringify({ result: 'A'.repeat(20 * 1024 * 1024) }), 'utf8') },
    { name: 'deeply nested result', apply: () => Buffer.from(`{"result":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'utf8') },
  ];
}

/** Variants of a raw blob answer (a file's content: the UTF-8 text of a cipher JSON). */
export function blobVariants(clean: Buffer): Variant[] {
  const cipherFields = jsonVariants(Buffer.from(`{"result":${clean.toString('utf8')}}`, 'utf8'), 1)
    .filter((v) => v.name.startsWith('result.'))
    .map((v) => ({
      name: `blob ${v.name.slice('result.'.length)}`,
      apply: (body: Buffer) => {
        const wrapped = v.apply(Buffer.from(`{"result":${body.toString('utf8')}}`, 'utf8'));
        return Buffer.from(JSON.stringify((JSON.parse(wrapped.toString('utf8')) as { result: Json }).result), 'utf8');
      },
    }));
  return [
    { name: 'blob truncated to half', apply: (body) => body.subarray(0, Math.floor(body.length / 2)) },
    { name: 'blob empty', apply: () => Buffer.alloc(0) },
    { name: 'blob not JSON', apply: () => Buffer.from('not a cipher', 'utf8') },
    { name: 'blob one byte flipped', apply: (body) => Buffer.concat([body.subarray(0, 20), Buffer.from([body[20] ^ 1]), body.subarray(21)]) },
    { name: 'blob huge (12 MiB)', apply: () => Buffer.alloc(12 * 1024 * 1024, 0x41) },
    ...cipherFields,
  ];
}
