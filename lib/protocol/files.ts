import {
  CipherJsonReader,
  CipherJsonWriter,
  HashAlgorithm,
  cipherJsonLength,
  cipherToJson,
  decrypt,
  encrypt,
  fromBase64Url,
  bytesEqual,
  fromUtf8,
  generateNonce,
  generateSecretKey,
  parseCipher,
  parseSecretKey,
  parseSignature,
  secretKeyToJson,
  sha512,
  sha512Stream,
  sign,
  signatureToJson,
  toBase64,
  toBase64Url,
  utf8,
  verify,
  type SecretKey,
} from '../crypto';
import type { BlobSource, FileMetadataDto } from '../backbone';
import type { Participant } from './participant';
import { ProtocolError, isProtocolError, readById } from './errors';
import type { FileReference } from './file-reference';
import { referenceToUrl, truncateReference } from './references';
import { cryptoJson, transportStringify } from './serialize';

/**
 * Files: encrypted and hashed here, stored by the Platform as an opaque blob (the UTF-8 text of the
 * content cipher JSON). The reference carries the METADATA key; the content key (random) is inside
 * the encrypted metadata. Our own metadata key derives from the metadata nonce, so we can always
 * re-read files we uploaded; everyone we gave a reference holds that key too, so reading our own
 * file by id also checks what only we can produce (verifyOwnFile).
 */

/** The Backbone's upload limit applies to the blob, which is base64 text: about 7.5 MiB of plaintext. */
export const MAX_UPLOAD_BLOB_BYTES = 10 * 1024 * 1024;
const BLOB_OVERHEAD = 8 + 59; // {"cph":" … ","alg":3,"nnc":"<32>","@type":"CryptoCipher"}
export const MAX_FILE_BYTES = Math.floor(((MAX_UPLOAD_BLOB_BYTES - BLOB_OVERHEAD) * 3) / 4) - 16;

export interface FileMetadata {
  filename: string;
  mimetype: string;
  filesize: number;
  title?: string;
  description?: string;
  tags?: string[];
  filemodified?: string;
}

export interface UploadFileInput {
  content: Uint8Array;
  filename: string;
  mimetype: string;
  title?: string;
  description?: string;
  tags?: string[];
  expiresAt: string;
}

export interface StoredFile extends FileMetadata {
  id: string;
  reference: FileReference;
  truncatedReference: string;
  url: string;
  owner: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  cipherSize: number;
}

interface DecryptedMetadata extends FileMetadata {
  plaintextHash: Buffer;
  contentKey: SecretKey;
  /** The decrypted metadata bytes, as stored. */
  plaintext: Buffer;
}

export async function uploadFile(ctx: Participant, input: UploadFileInput): Promise<StoredFile> {
  if (!input.filename) throw new ProtocolError('protocol.input.invalid', 'A file needs a file name');
  if (input.content.length > MAX_FILE_BYTES) {
    throw new ProtocolError(
      'protocol.input.tooLarge',
      `"${input.filename}" is ${(input.content.length / 1048576).toFixed(2)} MiB; the Platform takes at most ${(MAX_FILE_BYTES / 1048576).toFixed(2)} MiB per file (10 MiB after encryption and encoding)`,
    );
  }
  const expires = Date.parse(input.expiresAt);
  if (!Number.isFinite(expires) || expires <= ctx.now().getTime()) {
    throw new ProtocolError('protocol.input.invalid', 'The file expiry must be a date in the future');
  }
  const contentKey = generateSecretKey();
  // The blob is encrypted, encoded and hashed while it is sent (CipherJsonWriter): no buffer of it
  // (1.33× the file) is held, and the work overlaps with the transfer. A retry encrypts again with
  // the same nonce: the same bytes.
  const contentNonce = generateNonce();
  const blob: BlobSource = {
    length: cipherJsonLength(input.content.length),
    open() {
      const writer = new CipherJsonWriter(input.content, contentKey, contentNonce);
      const hash = sha512Stream();
      return {
        read(target) {
          const n = writer.read(target);
          hash.update(target.subarray(0, n));
          return n;
        },
        cipherHash: () => toBase64Url(hash.digest()),
      };
    },
  };
  const plaintextHash = sha512(input.content);
  const ownerSignature = sign(plaintextHash, ctx.identity.keys.device.prv, HashAlgorithm.SHA512);
  const metadata = transportStringify({
    '@type': 'FileMetadata',
    description: input.description || undefined,
    filename: input.filename,
    filesize: input.content.length,
    mimetype: input.mimetype || 'application/octet-stream',
    plaintextHash: toBase64Url(plaintextHash),
    secretKey: cryptoJson(secretKeyToJson(contentKey, false)),
    tags: input.tags?.length ? input.tags : undefined,
    title: input.title || undefined,
  });
  const metadataBytes = utf8(metadata);
  const metadataNonce = ctx.own.fileMetadataNonce(metadataBytes);
  const metadataKey = ctx.own.fileMetadataKey(metadataNonce);
  const dto = await ctx.client.uploadFileStreamed({
    content: blob,
    owner: ctx.identity.address,
    ownerSignature: toBase64(signatureToJson(ownerSignature)),
    expiresAt: new Date(expires).toISOString(),
    encryptedProperties: toBase64(cipherToJson(encrypt(metadataBytes, metadataKey, metadataNonce))),
  });
  const reference: FileReference = { id: dto.id, key: metadataKey, backboneBaseUrl: ctx.baseUrl };
  return {
    ...describe(dto, reference),
    filename: input.filename,
    mimetype: input.mimetype || 'application/octet-stream',
    filesize: input.content.length,
    title: input.title,
    description: input.description,
    tags: input.tags,
  };
}


function describe(dto: FileMetadataDto, reference: FileReference): Omit<StoredFile, keyof FileMetadata> {
  const ref = { id: reference.id, key: reference.key, backboneBaseUrl: reference.backboneBaseUrl };
  return {
    id: dto.id,
    reference,
    truncatedReference: truncateReference(ref),
    url: referenceToUrl(ref),
    owner: dto.owner,
    createdAt: dto.createdAt,
    createdBy: dto.createdBy,
    expiresAt: dto.expiresAt,
    cipherSize: dto.cipherSize,
  };
}

function openMetadata(dto: FileMetadataDto, key: SecretKey): DecryptedMetadata {
  const what = `the metadata of file ${dto.id}`;
  if (!dto.encryptedProperties) throw new ProtocolError('protocol.file.invalid', `${what} is missing`, dto.id);
  try {
    const plaintext = decrypt(parseCipher(dto.encryptedProperties, what), key, undefined, what);
    const json = JSON.parse(fromUtf8(plaintext)) as Record<string, unknown>;
    if (typeof json.filename !== 'string' || typeof json.plaintextHash !== 'string') {
      throw new ProtocolError('protocol.file.invalid', `${what} lacks file name or hash`, dto.id);
    }
    return {
      filename: json.filename,
      mimetype: typeof json.mimetype === 'string' ? json.mimetype : 'application/octet-stream',
      filesize: typeof json.filesize === 'number' ? json.filesize : dto.cipherSize,
      title: typeof json.title === 'string' ? json.title : undefined,
      description: typeof json.description === 'string' ? json.description : undefined,
      tags: Array.isArray(json.tags) ? json.tags.filter((t): t is string => typeof t === 'string') : undefined,
      filemodified: typeof json.filemodified === 'string' ? json.filemodified : undefined,
      plaintextHash: fromBase64Url(json.plaintextHash, `${what}.plaintextHash`),
      contentKey: parseSecretKey(json.secretKey, `${what}.secretKey`),
      plaintext,
    };
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw new ProtocolError('protocol.file.undecryptable', `${what} cannot be decrypted with this reference (${(error as Error).message})`, dto.id, error);
  }
}

function publicMetadata(m: DecryptedMetadata): FileMetadata {
  return { filename: m.filename, mimetype: m.mimetype, filesize: m.filesize, title: m.title, description: m.description, tags: m.tags, filemodified: m.filemodified };
}

async function metadataDto(ctx: Participant, id: string): Promise<FileMetadataDto> {
  const codes = { notFound: 'protocol.file.invalid', invalid: 'protocol.file.invalid' } as const;
  return readById(ctx.client.getFileMetadata(id), id, codes, `File ${id} does not exist, expired or was deleted`);
}

function metadataNonceOf(dto: FileMetadataDto): Uint8Array | undefined {
  try {
    return dto.encryptedProperties ? parseCipher(dto.encryptedProperties).nnc : undefined;
  } catch {
    return undefined;
  }
}

/** The metadata key of one of OUR files (derived from its metadata nonce). */
function ownMetadataKey(ctx: Participant, dto: FileMetadataDto): SecretKey {
  const nonce = metadataNonceOf(dto);
  if (!nonce || dto.createdBy !== ctx.identity.address) {
    throw new ProtocolError('protocol.file.invalid', `File ${dto.id} was not uploaded by this identity: use its reference`, dto.id);
  }
  return ctx.own.fileMetadataKey(nonce);
}

/**
 * Proof that a file read by id is ours: everyone holding a reference to it knows its metadata key
 * and could, with the Platform, put other metadata (another content key and hash: other bytes) under
 * it. Only we can produce the owner signature (our device key) over the plaintext hash — the
 * download then checks the content against that hash — and, for identities of version 2, the
 * metadata nonce, a PRF of the metadata plaintext (own-keys.ts), which also covers name, type and
 * title. Version 1 identities uploaded files with random nonces, so there the bytes are proven and
 * the descriptive fields are not (docs/security.md).
 */
function verifyOwnFile(ctx: Participant, dto: FileMetadataDto, metadata: DecryptedMetadata): void {
  const forged = (why: string) =>
    new ProtocolError('protocol.file.signatureInvalid', `File ${dto.id} was not stored by this identity: ${why} (changed by the Platform or by someone holding its reference)`, dto.id);
  let signed = false;
  try {
    signed = verify(metadata.plaintextHash, parseSignature(dto.ownerSignature, 'owner signature'), ctx.identity.keys.device.pub);
  } catch {
    signed = false;
  }
  if (!signed) throw forged('its owner signature does not verify with this identity\'s device key');
  const nonce = metadataNonceOf(dto);
  if (ctx.own.version >= 2 && !(nonce && bytesEqual(nonce, ctx.own.fileMetadataNonce(metadata.plaintext)))) {
    throw forged('its metadata was encrypted by someone else');
  }
}

/** Metadata of a file by reference (anyone's), or of our own file by id (proven ours). */
function readMetadata(ctx: Participant, dto: FileMetadataDto, reference: FileReference | string): { key: SecretKey; metadata: DecryptedMetadata } {
  if (typeof reference !== 'string') return { key: reference.key, metadata: openMetadata(dto, reference.key) };
  const key = ownMetadataKey(ctx, dto);
  const metadata = openMetadata(dto, key);
  verifyOwnFile(ctx, dto, metadata);
  return { key, metadata };
}

export async function getFile(ctx: Participant, reference: FileReference | string): Promise<StoredFile> {
  const id = typeof reference === 'string' ? reference : reference.id;
  const dto = await metadataDto(ctx, id);
  const { key, metadata } = readMetadata(ctx, dto, reference);
  return { ...describe(dto, { id, key, backboneBaseUrl: ctx.baseUrl }), ...publicMetadata(metadata) };
}

/** Downloads and decrypts a file; checks the blob hash (Platform) and the plaintext hash (end to end). */
export async function downloadFile(ctx: Participant, reference: FileReference | string): Promise<{ file: StoredFile; content: Buffer }> {
  const id = typeof reference === 'string' ? reference : reference.id;
  const dto = await metadataDto(ctx, id);
  const { key, metadata } = readMetadata(ctx, dto, reference);
  // The blob is read as it arrives: hashed for the Platform's record and decoded into one buffer of
  // the ciphertext, which is then decrypted where it lies — no copy of the blob (base64, 1.33× the
  // file) is ever held. A blob that cannot be read stops the decoding but not the hashing, so a
  // damaged blob is still reported as damaged rather than as undecryptable.
  const reader = new CipherJsonReader(`file ${id}`);
  const sink = (contentLength: number | undefined) => {
    reader.reset(contentLength);
    const hash = sha512Stream();
    let unreadable: unknown;
    return {
      write(chunk: Buffer) {
        hash.update(chunk);
        if (unreadable === undefined) {
          try {
            reader.write(chunk);
          } catch (error) {
            unreadable = error;
          }
        }
      },
      end: () => ({ cipherHash: toBase64Url(hash.digest()), unreadable }),
    };
  };
  const received = await ctx.client.downloadFileInto(id, sink, { expectedBytes: dto.cipherSize });
  if (received.cipherHash !== dto.cipherHash) {
    throw new ProtocolError('protocol.file.hashMismatch', `File ${id} arrived damaged (its hash does not match the Platform's record)`, id);
  }
  let content: Buffer;
  try {
    if (received.unreadable !== undefined) throw received.unreadable;
    content = reader.finish(metadata.contentKey);
  } catch (error) {
    throw new ProtocolError('protocol.file.undecryptable', `File ${id} cannot be decrypted: ${(error as Error).message}`, id, error);
  }
  if (!sha512(content).equals(metadata.plaintextHash)) {
    throw new ProtocolError('protocol.file.hashMismatch', `File ${id} does not match the hash its owner signed: it was changed`, id);
  }
  return { file: { ...describe(dto, { id, key, backboneBaseUrl: ctx.baseUrl }), ...publicMetadata(metadata) }, content };
}

/** Files this identity uploaded, oldest first; files it cannot read are reported, not dropped. */
export async function listOwnFiles(ctx: Participant): Promise<{ files: StoredFile[]; unreadable: { id: string; reason: string }[] }> {
  const files: StoredFile[] = [];
  const unreadable: { id: string; reason: string }[] = [];
  for await (const dto of ctx.client.files()) {
    try {
      const { key, metadata } = readMetadata(ctx, dto, dto.id);
      files.push({ ...describe(dto, { id: dto.id, key, backboneBaseUrl: ctx.baseUrl }), ...publicMetadata(metadata) });
    } catch (error) {
      unreadable.push({ id: dto.id, reason: (error as Error).message });
    }
  }
  return { files, unreadable };
}
