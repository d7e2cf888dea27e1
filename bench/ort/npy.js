// Minimal NumPy .npy (format 1.0/2.0/3.0) reader and writer for the onnxruntime reference runner.
// Supports little-endian C-order arrays of the dtypes listed in DTYPES; anything else is an error.
'use strict';

const fs = require('fs');

// numpy descr -> [onnxruntime tensor type, TypedArray constructor]
const DTYPES = {
  '<f4': ['float32', Float32Array],
  '<f8': ['float64', Float64Array],
  '<f2': ['float16', Uint16Array],
  '<i8': ['int64', BigInt64Array],
  '<u8': ['uint64', BigUint64Array],
  '<i4': ['int32', Int32Array],
  '<u4': ['uint32', Uint32Array],
  '<i2': ['int16', Int16Array],
  '<u2': ['uint16', Uint16Array],
  '|i1': ['int8', Int8Array],
  '|u1': ['uint8', Uint8Array],
  '|b1': ['bool', Uint8Array],
};
// numpy writes single-byte types with '|' but also accepts '<'/'='
const ALIASES = { '<i1': '|i1', '<u1': '|u1', '<b1': '|b1', '=i1': '|i1', '=u1': '|u1', '=b1': '|b1' };

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

function parseHeader(text, file) {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) throw new Error(`${file}: malformed .npy header: ${text}`);
  if (fortran[1] === 'True') throw new Error(`${file}: Fortran-order arrays are not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+$/.test(s)) throw new Error(`${file}: bad shape entry '${s}'`);
    return Number(s);
  });
  return { descr: ALIASES[descr[1]] || descr[1], dims };
}

// Returns { type, dims, data } where data is a TypedArray suitable for new ort.Tensor(type, data, dims).
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  let hlen;
  let hstart;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    hstart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new Error(`${file}: truncated header`);
    hlen = buf.readUInt32LE(8);
    hstart = 12;
  } else {
    throw new Error(`${file}: unsupported .npy version ${major}`);
  }
  if (hstart + hlen > buf.length) throw new Error(`${file}: truncated header`);
  const { descr, dims } = parseHeader(buf.toString('latin1', hstart, hstart + hlen), file);
  const dt = DTYPES[descr];
  if (!dt) throw new Error(`${file}: unsupported dtype '${descr}'`);
  const [type, Ctor] = dt;
  let count = 1;
  for (const d of dims) count *= d;
  if (!Number.isSafeInteger(count)) throw new Error(`${file}: shape too large`);
  const off = hstart + hlen;
  const nbytes = count * Ctor.BYTES_PER_ELEMENT;
  if (buf.length - off !== nbytes) {
    throw new Error(`${file}: expected ${nbytes} data bytes, found ${buf.length - off}`);
  }
  // copy into a fresh, aligned ArrayBuffer
  const ab = new ArrayBuffer(nbytes);
  new Uint8Array(ab).set(buf.subarray(off, off + nbytes));
  return { type, dims, data: new Ctor(ab) };
}

function writeNpy(file, type, dims, data) {
  const entry = Object.entries(DTYPES).find(([, [t]]) => t === type);
  if (!entry) throw new Error(`cannot write tensor of type '${type}' to .npy`);
  const descr = entry[0];
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // total header (magic + version + len + dict + '\n') padded to a multiple of 64 bytes
  const pad = (64 - ((10 + header.length + 1) % 64)) % 64;
  header += ' '.repeat(pad) + '\n';
  const pre = Buffer.alloc(10);
  MAGIC.copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

module.exports = { readNpy, writeNpy };
