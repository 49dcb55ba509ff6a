/**
 * Typed, case-insensitive reading of JSON request bodies, mirroring ASP.NET/System.Text.Json binding:
 * wrong JSON types and missing required fields are 400 inputCannotBeParsed ('$.path': reason); rule violations
 * (lengths, ranges, formats) are 400 invalidPropertyValue from the caller.
 */
import { cannotParse, invalid } from './errors';
import { decodeBase64Loose, isAddress, isId, parseIsoDate, type IdPrefix } from '../util';

type Opt = { required?: boolean };

export class In {
  private readonly keys = new Map<string, string>();

  constructor(
    readonly raw: Record<string, unknown>,
    readonly path = '$',
  ) {
    for (const k of Object.keys(raw)) this.keys.set(k.toLowerCase(), k);
  }

  static root(value: unknown): In {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw cannotParse('$', 'The JSON value could not be converted to the request object.');
    return new In(value as Record<string, unknown>);
  }

  private p(name: string): string {
    return `${this.path}.${name}`;
  }

  has(name: string): boolean {
    return this.keys.has(name.toLowerCase());
  }

  get(name: string): unknown {
    const k = this.keys.get(name.toLowerCase());
    return k === undefined ? undefined : this.raw[k];
  }

  private missing(name: string, opt?: Opt): undefined {
    if (opt?.required) throw cannotParse(this.p(name), `The JSON property '${name}' is required.`);
    return undefined;
  }

  str(name: string, opt?: Opt & { max?: number }): string | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return this.missing(name, opt);
    if (typeof v !== 'string') throw cannotParse(this.p(name), 'The JSON value could not be converted to System.String.');
    if (opt?.max !== undefined && v.length > opt.max) throw invalid(`'${name}' must be between 0 and ${opt.max} characters long.`);
    return v;
  }

  /** Integers; numeric strings are accepted (System.Text.Json AllowReadingFromString). */
  int(name: string, opt?: Opt & { min?: number; max?: number }): number | undefined {
    let v = this.get(name);
    if (v === undefined || v === null) return this.missing(name, opt);
    if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) v = Number(v.trim());
    if (typeof v !== 'number' || !Number.isInteger(v) || !Number.isSafeInteger(v))
      throw cannotParse(this.p(name), 'The JSON value could not be converted to System.Int32.');
    if (v < -2147483648 || v > 2147483647) throw cannotParse(this.p(name), 'The JSON value could not be converted to System.Int32.');
    if (opt?.min !== undefined && v < opt.min) throw invalid(`'${name}' must be greater than or equal to '${opt.min}'.`);
    if (opt?.max !== undefined && v > opt.max) throw invalid(`'${name}' must be less than or equal to '${opt.max}'.`);
    return v;
  }

  bool(name: string, opt?: Opt): boolean | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return this.missing(name, opt);
    if (typeof v !== 'boolean') throw cannotParse(this.p(name), 'The JSON value could not be converted to System.Boolean.');
    return v;
  }

  /** byte[] fields: base64url or standard base64. null stays null (returned as undefined). */
  bytes(name: string, opt?: Opt & { min?: number; max?: number }): Buffer | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return this.missing(name, opt);
    if (typeof v !== 'string') throw cannotParse(this.p(name), 'The JSON value could not be converted to System.Byte[].');
    const buf = decodeBase64Loose(v);
    if (!buf) throw cannotParse(this.p(name), 'The JSON value is not in a supported Base64 format.');
    checkBytes(name, buf, opt);
    return buf;
  }

  date(name: string, opt?: Opt): Date | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return this.missing(name, opt);
    if (typeof v !== 'string') throw cannotParse(this.p(name), 'The JSON value could not be converted to System.DateTime.');
    const d = parseIsoDate(v);
    if (!d) throw cannotParse(this.p(name), 'The JSON value could not be converted to System.DateTime.');
    return d;
  }

  /** Enums: name (case-insensitive) or its number. */
  enumOf<T extends string>(name: string, values: readonly T[], opt?: Opt): T | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return this.missing(name, opt);
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < values.length) return values[v];
    if (typeof v === 'string') {
      const hit = values.find((x) => x.toLowerCase() === v.trim().toLowerCase());
      if (hit) return hit;
      if (/^\d+$/.test(v.trim()) && Number(v) < values.length) return values[Number(v)];
    }
    throw cannotParse(this.p(name), `The JSON value could not be converted to the enum (allowed: ${values.join(', ')}).`);
  }

  obj(name: string, opt?: Opt): In | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return this.missing(name, opt);
    if (typeof v !== 'object' || Array.isArray(v)) throw cannotParse(this.p(name), 'The JSON value could not be converted to an object.');
    return new In(v as Record<string, unknown>, this.p(name));
  }

  arr(name: string, opt?: Opt): unknown[] | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return this.missing(name, opt);
    if (!Array.isArray(v)) throw cannotParse(this.p(name), 'The JSON value could not be converted to a collection.');
    return v;
  }

  objArr(name: string, opt?: Opt): In[] | undefined {
    const a = this.arr(name, opt);
    if (!a) return undefined;
    return a.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        throw cannotParse(`${this.p(name)}[${i}]`, 'The JSON value could not be converted to an object.');
      return new In(item as Record<string, unknown>, `${this.p(name)}[${i}]`);
    });
  }

  id(name: string, prefix: IdPrefix, opt?: Opt): string | undefined {
    const v = this.str(name, opt);
    if (v === undefined) return undefined;
    if (!isId(v, prefix)) throw invalid(`'${name}' is not a valid ${prefix} id.`);
    return v;
  }

  address(name: string, opt?: Opt): string | undefined {
    const v = this.str(name, opt);
    if (v === undefined) return undefined;
    if (!isAddress(v)) throw invalid(`'${name}' is not a valid address.`);
    return v;
  }
}

export function checkBytes(name: string, buf: Buffer, opt?: { min?: number; max?: number }): void {
  if (opt?.min !== undefined && buf.length < opt.min)
    throw invalid(`'${name}' must have between ${opt.min} and ${opt.max ?? 'unlimited'} bytes.`);
  if (opt?.max !== undefined && buf.length > opt.max)
    throw invalid(`'${name}' must have between ${opt.min ?? 0} and ${opt.max} bytes.`);
}
