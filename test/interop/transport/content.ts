/**
 * App-level content types for the transport interop harness.
 *
 * Transport only encrypts and signs `content`; the receiver deserializes it polymorphically by its `@type`
 * and throws on an unknown type. The real apps register these types through @nmshd/content, which is not
 * installed here, so we register look-alikes with the same `@type` names and JSON shapes:
 * `Mail`, `ArbitraryMessageContent`, `ArbitraryRelationshipTemplateContent` and
 * `ArbitraryRelationshipCreationContent`.
 *
 * The tsconfig has no `experimentalDecorators`/`emitDecoratorMetadata`, so the ts-serval decorators are applied
 * by hand, with the `design:type` metadata TypeScript would have emitted.
 */
import { Serializable, SerializableBase, serialize, type, validate, type ISerializable } from '@js-soft/ts-serval';
import { CoreAddress, type ICoreAddress } from '@nmshd/core-types';
import { createRequire } from 'node:module';

/**
 * Dependency-tree repair (not a change to transport): @nmshd/core-types 7.0.0 pins @js-soft/ts-serval 2.0.14,
 * while this package's devDependency puts ts-serval 2.0.17 at the top level, where @nmshd/transport and
 * @nmshd/crypto resolve it. npm then installs two copies with two type registries: transport's parser does
 * not find `FileReference` (registered by core-types in its own copy) and every received message with an
 * attachment fails ("Type 'FileReference' with version 1 was not found within reflection classes").
 * ts-serval supports several registries (`SerializableBase.addModule`), so we chain the two registries to each
 * other. With a single copy installed (ts-serval pinned to 2.0.14) this is a no-op.
 */
function bridgeServalRegistries(): boolean {
  const coreTypesRequire = createRequire(require.resolve('@nmshd/core-types'));
  const nested = coreTypesRequire('@js-soft/ts-serval') as { SerializableBase: typeof SerializableBase };
  if (nested.SerializableBase === SerializableBase) return false;
  // Both ways: core-types' Reference parses a CryptoSecretKey, which @nmshd/crypto registered at the top level.
  SerializableBase.addModule(nested.SerializableBase);
  nested.SerializableBase.addModule(SerializableBase);
  return true;
}

/** True when two ts-serval copies were found and bridged (see above). */
export const servalRegistriesBridged = bridgeServalRegistries();

type Ctor = abstract new (...args: never[]) => unknown;
interface ReflectMetadata {
  defineMetadata(key: string, value: unknown, target: object, property: string): void;
}
// reflect-metadata is loaded by ts-serval itself (its decorators depend on it).
const reflectMetadata = Reflect as unknown as ReflectMetadata;

function property(
  cls: { prototype: object },
  key: string,
  designType: Ctor,
  serializeOptions?: Parameters<typeof serialize>[0],
  validateOptions?: Parameters<typeof validate>[0],
): void {
  reflectMetadata.defineMetadata('design:type', designType, cls.prototype, key);
  // Same order as `@serialize() @validate()` written above a property (decorators apply bottom-up).
  validate(validateOptions)(cls.prototype, key);
  serialize(serializeOptions)(cls.prototype, key);
}

export interface IMail extends ISerializable {
  to: ICoreAddress[];
  cc?: ICoreAddress[];
  subject: string;
  body: string;
}

/** `{"@type":"Mail","to":[…],"cc":[…],"subject":…,"body":…}` as in @nmshd/content. */
export class Mail extends Serializable implements IMail {
  public declare to: CoreAddress[];
  public declare cc?: CoreAddress[];
  public declare subject: string;
  public declare body: string;

  protected static override preFrom(value: any): any {
    value.cc ??= [];
    return value;
  }

  public static from(value: IMail): Mail {
    return this.fromAny(value);
  }
}
property(Mail, 'to', Array, { type: CoreAddress }, { customValidator: (v: unknown[]) => (v.length < 1 ? 'may not be empty' : undefined) });
property(Mail, 'cc', Array, { type: CoreAddress }, { nullable: true });
property(Mail, 'subject', String, undefined, { max: 300 });
property(Mail, 'body', String, undefined, { max: 50000 });
type('Mail')(Mail);

export interface IArbitraryContent extends ISerializable {
  value: unknown;
}

/** `{"@type":"ArbitraryMessageContent","value":…}` */
export class ArbitraryMessageContent extends Serializable implements IArbitraryContent {
  public declare value: unknown;
  public static from(value: IArbitraryContent): ArbitraryMessageContent {
    return this.fromAny(value);
  }
}
property(ArbitraryMessageContent, 'value', Object, { any: true });
type('ArbitraryMessageContent')(ArbitraryMessageContent);

/** `{"@type":"ArbitraryRelationshipTemplateContent","value":…}` */
export class ArbitraryRelationshipTemplateContent extends Serializable implements IArbitraryContent {
  public declare value: unknown;
  public static from(value: IArbitraryContent): ArbitraryRelationshipTemplateContent {
    return this.fromAny(value);
  }
}
property(ArbitraryRelationshipTemplateContent, 'value', Object, { any: true });
type('ArbitraryRelationshipTemplateContent')(ArbitraryRelationshipTemplateContent);

/** `{"@type":"ArbitraryRelationshipCreationContent","value":…}` */
export class ArbitraryRelationshipCreationContent extends Serializable implements IArbitraryContent {
  public declare value: unknown;
  public static from(value: IArbitraryContent): ArbitraryRelationshipCreationContent {
    return this.fromAny(value);
  }
}
property(ArbitraryRelationshipCreationContent, 'value', Object, { any: true });
type('ArbitraryRelationshipCreationContent')(ArbitraryRelationshipCreationContent);
