import { attributeTextProblem, cleanAttributeText } from './attribute-values';
import { describe, isObject, LINK } from './checks';
import { AppContentError, type AttributeValueJson, type JsonObject } from './types';

/**
 * The attribute value types of @nmshd/content 7.0.0 (attributes/types): their fields and what the
 * classes validate, so that a value we send is one the App can read, and a value we receive can be
 * shown as plain fields. Types this table does not know (e.g. BankAccount of runtime 7.5) are
 * never refused when received: they are shown as unknown with their raw JSON.
 */

type FieldKind = 'text' | 'email' | 'phone' | 'url' | 'link' | 'country' | 'language' | 'sex' | 'day' | 'month' | 'year' | 'fileReference' | 'xml' | 'integer' | 'float' | 'boolean' | 'hexColor' | 'json';

interface FieldSpec {
  name: string;
  kind: FieldKind;
  optional?: boolean;
  /** Maximum length of a text field, where it differs from the kind's. */
  max?: number;
}

export interface ValueTypeSpec {
  /** IdentityAttribute or RelationshipAttribute values. */
  attribute: 'IdentityAttribute' | 'RelationshipAttribute';
  fields: readonly FieldSpec[];
}

/** ISO 3166-1 alpha-2 codes (core-types CountryAlpha2), as AbstractCountry accepts them. */
const COUNTRIES = new Set(
  'AF AL AS AD AO AI AQ AG AR AM AW AU AT AZ AE AX BS BH BD BB BY BE BZ BJ BM BT BO BQ BA BW BV BR BN BG BF BI BL CV CM CA CF CL CN CX CC CO CD CG CK CR CU CW CY CZ CI CH DZ DK DJ DM DO DE EC EG ER EE ET ES EH FK FO FJ FI FR FM GQ GF GA GM GE GH GI GR GL GD GP GU GT GG GN GW GY GS GB HR HT HM HN HK HU IO IS IN ID IR IQ IE IM IL IT JM JP JE JO KH KY KM KZ KE KI KP KR KW KG KN LA LV LB LS LR LY LI LT LU LC LK MO MG MW MY MV ML MT MH MQ MR MU MX MD MC MN ME MS MA MZ MM MP MK MF NA NR NP NL NC NZ NI NE NG NU NF NO OM PF PK PW PS PA PG PY PE PH PN PL PT PR PM QA RO RU RW RE RS SV SZ SH SM ST SA SN SC SL SG SX SK SI SB SO SS SD SR SJ SE SY TD TF TW TJ TZ TH TL TG TK TO TT TN TR TM TC TV UG UA UM US UY UZ VA VC VU VE VN VG VI WS WF YT YE ZA ZM ZW'.split(
    ' ',
  ),
);

/** ISO 639-1 codes (core-types LanguageISO639), as AbstractLanguage accepts them. */
const LANGUAGES = new Set(
  'aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu'.split(
    ' ',
  ),
);

/** The patterns of @nmshd/content 7.0.0 (AbstractEMailAddress, AbstractPhoneNumber, AbstractURL, AbstractHEXColor). */
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9ÄäÖöÜüß]([A-Za-z0-9ÄäÖöÜüß-]{0,61}[A-Za-z0-9ÄäÖöÜüß])?\.)+[A-Za-z0-9ÄäÖöÜüß][A-Za-z0-9ÄäÖöÜüß-]{0,61}[A-Za-z0-9ÄäÖöÜüß]$/;
const PHONE = /^[\d+\-x#*()/[\] ]{3,100}$/;
const URL_PATTERN =
  /^([A-Za-z]+:\/\/)?((www\.)|(?!www\.))([A-Za-z0-9ÄäÖöÜüß]([A-Za-zÄäÖöÜüß0-9-]{0,61}[A-Za-zÄäÖöÜüß0-9])?\.)+([A-Za-z0-9ÄäÖöÜüß]([A-Za-zÄäÖöÜüß0-9-]{0,61}[A-Za-zÄäÖöÜüß0-9])?)(:[0-9]+)?(\/[A-Za-zÄäÖöÜüß0-9?#@!$&'()*+,;=%-]*)*$/;
const HEX_COLOR = /^#([0-9A-F]{3}){1,2}$/i;

const value = (kind: FieldKind, max?: number): FieldSpec[] => [{ name: 'value', kind, max }];
const text = (name: string, optional = false): FieldSpec => ({ name, kind: 'text', optional });
const identity = (fields: FieldSpec[]): ValueTypeSpec => ({ attribute: 'IdentityAttribute', fields });
const proprietary = (fields: FieldSpec[]): ValueTypeSpec => ({
  attribute: 'RelationshipAttribute',
  fields: [{ name: 'title', kind: 'text' }, { name: 'description', kind: 'text', optional: true, max: 1000 }, ...fields],
});
const address = (fields: FieldSpec[]): ValueTypeSpec =>
  identity([text('recipient'), ...fields, text('zipCode'), text('city'), { name: 'country', kind: 'country' }, text('state', true)]);

/** Every value type of @nmshd/content 7.0.0 with its fields. */
export const VALUE_TYPES: Readonly<Record<string, ValueTypeSpec>> = {
  Affiliation: identity([text('organization'), text('role', true), text('unit', true)]),
  BirthDate: identity([
    { name: 'day', kind: 'day' },
    { name: 'month', kind: 'month' },
    { name: 'year', kind: 'year' },
  ]),
  BirthName: identity(value('text')),
  BirthPlace: identity([text('city'), { name: 'country', kind: 'country' }, text('state', true)]),
  Citizenship: identity(value('country')),
  CommunicationLanguage: identity(value('language')),
  DeliveryBoxAddress: address([text('userId'), text('deliveryBoxId'), { name: 'phoneNumber', kind: 'phone', optional: true }]),
  DisplayName: identity(value('text')),
  EMailAddress: identity(value('email')),
  FaxNumber: identity(value('phone')),
  GivenName: identity(value('text')),
  HonorificPrefix: identity(value('text')),
  HonorificSuffix: identity(value('text')),
  IdentityFileReference: identity(value('fileReference')),
  JobTitle: identity(value('text')),
  Nationality: identity(value('country')),
  MiddleName: identity(value('text')),
  PhoneNumber: identity(value('phone')),
  PostOfficeBoxAddress: address([text('boxId')]),
  Pseudonym: identity(value('text')),
  Sex: identity(value('sex')),
  StreetAddress: address([text('street'), text('houseNo')]),
  Surname: identity(value('text')),
  Website: identity(value('url')),
  SchematizedXML: identity([...value('xml'), { name: 'schemaURL', kind: 'link', optional: true }]),
  ProprietaryBoolean: proprietary(value('boolean')),
  ProprietaryCountry: proprietary(value('country')),
  ProprietaryEMailAddress: proprietary(value('email')),
  ProprietaryFileReference: proprietary(value('fileReference')),
  ProprietaryFloat: proprietary(value('float')),
  ProprietaryHEXColor: proprietary(value('hexColor')),
  ProprietaryInteger: proprietary(value('integer')),
  ProprietaryLanguage: proprietary(value('language')),
  ProprietaryPhoneNumber: proprietary(value('phone')),
  ProprietaryString: proprietary(value('text')),
  ProprietaryURL: proprietary(value('url')),
  ProprietaryJSON: proprietary(value('json')),
  ProprietaryXML: proprietary([...value('xml'), { name: 'schemaURL', kind: 'link', optional: true }]),
  Consent: {
    attribute: 'RelationshipAttribute',
    fields: [
      { name: 'consent', kind: 'text', max: 10000 },
      { name: 'link', kind: 'link', optional: true },
      { name: 'linkDisplayText', kind: 'text', optional: true, max: 30 },
    ],
  },
};

/** The RelationshipAttribute value types of @nmshd/content 7.0.0 (AttributeValues.Relationship.TYPE_NAMES). */
export const RELATIONSHIP_ATTRIBUTE_VALUE_TYPES = Object.keys(VALUE_TYPES).filter((t) => VALUE_TYPES[t].attribute === 'RelationshipAttribute');

export function valueTypeSpec(type: unknown): ValueTypeSpec | undefined {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(VALUE_TYPES, type) ? VALUE_TYPES[type] : undefined;
}

function fieldProblem(spec: FieldSpec, raw: unknown): string | undefined {
  const textOf = (max: number, min = 0): string | undefined => {
    if (typeof raw !== 'string') return `must be text, but is ${describe(raw)}`;
    if (raw.length < min) return `must have at least ${min} characters`;
    if (raw.length > (spec.max ?? max)) return `has ${raw.length} characters; at most ${spec.max ?? max} are allowed`;
    return attributeTextProblem(raw);
  };
  const integer = (min: number, max: number): string | undefined =>
    typeof raw === 'number' && Number.isInteger(raw) && raw >= min && raw <= max ? undefined : `must be a whole number from ${min} to ${max}, but is ${describe(raw)}`;
  switch (spec.kind) {
    case 'text':
      return textOf(100);
    case 'email':
      return textOf(254, 3) ?? (EMAIL.test(raw as string) ? undefined : `${describe(raw)} is not an e-mail address`);
    case 'phone':
      return textOf(100, 3) ?? (PHONE.test(raw as string) ? undefined : `${describe(raw)} is not a phone number (digits, spaces and + - x # * ( ) / [ ])`);
    case 'url':
      return textOf(1024, 3) ?? (URL_PATTERN.test(raw as string) ? undefined : `${describe(raw)} is not a web address such as https://example.com`);
    case 'link':
      return textOf(1024, 3) ?? (LINK.test(raw as string) ? undefined : `${describe(raw)} is not a link such as https://example.com/terms`);
    case 'country':
      return typeof raw === 'string' && COUNTRIES.has(raw) ? undefined : `must be a country code such as DE or FR (ISO 3166-1 alpha-2), but is ${describe(raw)}`;
    case 'language':
      return typeof raw === 'string' && LANGUAGES.has(raw) ? undefined : `must be a language code such as de or en (ISO 639-1), but is ${describe(raw)}`;
    case 'sex':
      return raw === 'female' || raw === 'male' || raw === 'intersex' ? undefined : `must be "female", "male" or "intersex", but is ${describe(raw)}`;
    case 'day':
      return integer(1, 31);
    case 'month':
      return integer(1, 12);
    case 'year':
      return integer(1, 9999);
    case 'fileReference':
      return textOf(150, 30);
    case 'xml':
      return textOf(50000);
    case 'integer':
      return typeof raw === 'number' && Number.isInteger(raw) ? undefined : `must be a whole number, but is ${describe(raw)}`;
    case 'float':
      return typeof raw === 'number' && Number.isFinite(raw) ? undefined : `must be a number, but is ${describe(raw)}`;
    case 'boolean':
      return typeof raw === 'boolean' ? undefined : `must be true or false, but is ${describe(raw)}`;
    case 'hexColor':
      return typeof raw === 'string' && HEX_COLOR.test(raw) ? undefined : `must be a colour such as #1A2B3C, but is ${describe(raw)}`;
    case 'json': {
      const serialized = JSON.stringify(raw);
      if (serialized === undefined) return 'must be JSON';
      return serialized.length > 4096 ? `has ${serialized.length} characters as JSON; at most 4096 are allowed` : undefined;
    }
  }
}

/**
 * The problems of an attribute value we are about to send (empty when the App will read it): a known
 * value type, every required field, no unknown field, the patterns and lengths of @nmshd/content
 * 7.0.0 and the characters the runtime accepts. `what` names the value in the messages.
 */
export function attributeValueProblems(json: unknown, what: string, expected?: 'IdentityAttribute' | 'RelationshipAttribute'): string[] {
  if (!isObject(json)) return [`${what} must be an object with an "@type" such as "EMailAddress", but is ${describe(json)}`];
  const type = json['@type'];
  const spec = valueTypeSpec(type);
  if (!spec) return [`${what}["@type"] ${describe(type)} is not an attribute value type of enmeshed (e.g. ${Object.keys(VALUE_TYPES).slice(0, 4).join(', ')}, …)`];
  if (expected && spec.attribute !== expected) {
    return [`${what}: a ${String(type)} is a value of a ${spec.attribute}, not of an ${expected}`];
  }
  const problems: string[] = [];
  const known = new Set(spec.fields.map((f) => f.name));
  if (spec.attribute === 'RelationshipAttribute' && type !== 'Consent') known.add('valueHintsOverride');
  for (const field of spec.fields) {
    const raw = json[field.name];
    if (raw === undefined || raw === null || raw === '') {
      if (!field.optional) problems.push(`${what}.${field.name} is missing`);
      continue;
    }
    const problem = fieldProblem(field, raw);
    if (problem) problems.push(`${what}.${field.name} ${problem}`);
  }
  if (type === 'BirthDate' && problems.length === 0) {
    const { day, month, year } = json as { day: number; month: number; year: number };
    const date = new Date(Date.UTC(year, month - 1, day));
    if (date.getUTCMonth() !== month - 1) problems.push(`${what} ${year}-${month}-${day} is not a date`);
  }
  if (type === 'Consent' && json.linkDisplayText !== undefined && json.link === undefined) problems.push(`${what}.linkDisplayText is only allowed together with a link`);
  for (const field of Object.keys(json)) if (field !== '@type' && !known.has(field)) problems.push(`${what}.${field} is not a field of ${String(type)}`);
  return problems;
}

/**
 * An attribute value of `type` from what a user gives: a text for one-field types ("value"), or an
 * object with the fields (with or without "@type"). Texts are NFC-normalised and trimmed, numbers in
 * text form (BirthDate, ProprietaryInteger) become numbers, empty optional fields are dropped.
 * Throws AppContentError listing every problem.
 */
export function buildAttributeValue(type: string, input: unknown, what = `The ${type}`): AttributeValueJson {
  const spec = valueTypeSpec(type);
  if (!spec) throw new AppContentError([`${describe(type)} is not an attribute value type of enmeshed`]);
  let fields: JsonObject;
  if (isObject(input)) {
    const { '@type': given, ...rest } = input;
    if (given !== undefined && given !== type) throw new AppContentError([`${what} has "@type" ${describe(given)}, expected "${type}"`]);
    fields = rest;
  } else if (spec.fields.length === 1 || spec.fields.some((f) => f.name === 'value')) {
    fields = { value: input };
  } else {
    throw new AppContentError([`${what} needs the fields ${spec.fields.map((f) => f.name + (f.optional ? '?' : '')).join(', ')} as an object`]);
  }
  const out: AttributeValueJson = { '@type': type };
  for (const [name, raw] of Object.entries(fields)) {
    const field = spec.fields.find((f) => f.name === name);
    let v = raw;
    if (typeof v === 'string' && field?.kind !== 'xml' && field?.kind !== 'json') v = cleanAttributeText(v);
    if (typeof v === 'string' && field && ['day', 'month', 'year', 'integer', 'float'].includes(field.kind) && /^-?\d+(\.\d+)?$/.test(v)) v = Number(v);
    if (typeof v === 'string' && field?.kind === 'boolean' && (v === 'true' || v === 'false')) v = v === 'true';
    if (typeof v === 'string' && field?.kind === 'country') v = v.toUpperCase();
    if (typeof v === 'string' && field?.kind === 'language') v = v.toLowerCase();
    if ((v === '' || v === null || v === undefined) && field?.optional) continue;
    out[name] = v;
  }
  const problems = attributeValueProblems(out, what);
  if (problems.length > 0) throw new AppContentError(problems);
  return out;
}

/**
 * A value as a workflow uses it: the text (or number) of one-field types, the fields without "@type"
 * otherwise. Unknown types are shaped the same way, so a newer App's values still read naturally.
 */
export function flattenAttributeValue(json: unknown): unknown {
  if (!isObject(json)) return json;
  const fields: JsonObject = { ...json };
  delete fields['@type'];
  const keys = Object.keys(fields);
  if (keys.length === 1 && keys[0] === 'value') return fields.value;
  return fields;
}
