import {
  CipherJsonReader,
  CipherJsonWriter,
  HashAlgorithm,
  cipherJsonLength,
  cipherToJson,
  decrypt,
  encrypt,
  fromBase64Url,
  fromUtf8,
  generateNonce,
  parseCipher,
  parseSecretKey,
  secretKeyToJson,
  sha512,
  sha512Stream,
  sign,
  signatureToJson,
  toBase64,
  toBase64Url,
  utf8,
  type SecretKey,
} from '../crypto';
import type { BlobSource, FileMetadataDto } from '../platform';
import type { ProtocolContext } from './context';
import { ProtocolError, isProtocolError, orNotFound } from './errors';
import { referenceToUrl, truncateReference } from './references';
import { cryptoJson, transportStringify } from './serialize';
import type { FileReference } from './wrappers';

/**
 * Files: encrypted and hashed here, stored by the Platform as an opaque blob (the UTF-8 text of the
 * content cipher JSON). The reference carries the METADATA key; the content key is inside the
 * encrypted metadata. Our own file keys derive from the metadata nonce, so we can always re-read
 * files we uploaded.
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
}

export async function uploadFile(ctx: ProtocolContext, input: UploadFileInput): Promise<StoredFile> {
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
  const metadataNonce = generateNonce();
  const keys = ctx.own.file(metadataNonce);
  // The blob is encrypted, encoded and hashed while it is sent (CipherJsonWriter): no buffer of it
  // (1.33× the file) is held, and the work overlaps with the transfer. A retry encrypts again with
  // the same nonce: the same bytes.
  const contentNonce = generateNonce();
  const blob: BlobSource = {
    length: cipherJsonLength(input.content.length),
    open() {
      const writer = new CipherJsonWriter(input.content, keys.contentKey, contentNonce);
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
    secretKey: cryptoJson(secretKeyToJson(keys.contentKey, false)),
    tags: input.tags?.length ? input.tags : undefined,
    title: input.title || undefined,
  });
  const dto = await ctx.client.uploadFileStreamed({
    content: blob,
    owner: ctx.identity.address,
    ownerSignature: toBase64(signatureToJson(ownerSignature)),
    expiresAt: new Date(expires).toISOString(),
    encryptedProperties: toBase64(cipherToJson(encrypt(utf8(metadata), keys.metadataKey, metadataNonce))),
  });
  const reference: FileReference = { id: dto.id, key: keys.metadataKey, backboneBaseUrl: ctx.baseUrl };
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
    const json = JSON.parse(fromUtf8(decrypt(parseCipher(dto.encryptedProperties, what), key, undefined, what))) as Record<string, unknown>;
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
    };
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw new ProtocolError('protocol.file.undecryptable', `${what} cannot be decrypted with this reference (${(error as Error).message})`, dto.id, error);
  }
}

function publicMetadata(m: DecryptedMetadata): FileMetadata {
  return { filename: m.filename, mimetype: m.mimetype, filesize: m.filesize, title: m.title, description: m.description, tags: m.tags, filemodified: m.filemodified };
}

async function metadataDto(ctx: ProtocolContext, id: string): Promise<FileMetadataDto> {
  const dto = await orNotFound(ctx.client.getFileMetadata(id), 'protocol.file.invalid', `File ${id} does not exist, expired or was deleted`, id);
  if (dto.id !== id) throw new ProtocolError('protocol.file.invalid', `The Platform answered the request for file ${id} with file ${dto.id}`, id);
  return dto;
}

/** The metadata key of one of OUR files (derived from its metadata nonce). */
function ownMetadataKey(ctx: ProtocolContext, dto: FileMetadataDto): SecretKey {
  const nonce = dto.encryptedProperties ? parseCipher(dto.encryptedProperties).nnc : undefined;
  if (!nonce || dto.createdBy !== ctx.identity.address) {
    throw new ProtocolError('protocol.file.invalid', `File ${dto.id} was not uploaded by this identity: use its reference`, dto.id);
  }
  return ctx.own.file(nonce).metadataKey;
}

export async function getFile(ctx: ProtocolContext, reference: FileReference | string): Promise<StoredFile> {
  const id = typeof reference === 'string' ? reference : reference.id;
  const dto = await metadataDto(ctx, id);
  const key = typeof reference === 'string' ? ownMetadataKey(ctx, dto) : reference.key;
  return { ...describe(dto, { id, key, backboneBaseUrl: ctx.baseUrl }), ...publicMetadata(openMetadata(dto, key)) };
}

/** Downloads and decrypts a file; checks the blob hash (Platform) and the plaintext hash (end to end). */
export async function downloadFile(ctx: ProtocolContext, reference: FileReference | string): Promise<{ file: StoredFile; content: Buffer }> {
  const id = typeof reference === 'string' ? reference : reference.id;
  const dto = await metadataDto(ctx, id);
  const key = typeof reference === 'string' ? ownMetadataKey(ctx, dto) : reference.key;
  const metadata = openMetadata(dto, key);
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
export async function listOwnFiles(ctx: ProtocolContext): Promise<{ files: StoredFile[]; unreadable: { id: string; reason: string }[] }> {
  const files: StoredFile[] = [];
  const unreadable: { id: string; reason: string }[] = [];
  for await (const dto of ctx.client.files()) {
    try {
      const key = ownMetadataKey(ctx, dto);
      files.push({ ...describe(dto, { id: dto.id, key, backboneBaseUrl: ctx.baseUrl }), ...publicMetadata(openMetadata(dto, key)) });
    } catch (error) {
      unreadable.push({ id: dto.id, reason: (error as Error).message });
    }
  }
  return { files, unreadable };
}
