// Runs a one-input ONNX model with onnxruntime-node (one thread) over the input's first dimension in
// chunks of CHUNK rows, and writes graph output 0 of all chunks, concatenated, to OUT.npy (large batches
// of a small model without the memory of one huge batch). Usage: node ort_chunks.js MODEL.onnx IN.npy CHUNK OUT.npy
'use strict';

const ort = require('onnxruntime-node');
const { readNpy, writeNpy } = require('./npy.js');

async function main() {
  const [model, input, chunkArg, out] = process.argv.slice(2);
  const chunk = Number(chunkArg);
  if (!out || !(chunk >= 1)) {
    console.error('usage: node ort_chunks.js MODEL.onnx IN.npy CHUNK OUT.npy');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
  });
  if (session.inputNames.length !== 1) throw new Error(`model has ${session.inputNames.length} inputs, not 1`);
  const a = readNpy(input);
  const n = a.dims[0];
  const row = a.data.length / n;
  const parts = [];
  let outDims = null;
  let outType = null;
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const x = new ort.Tensor(a.type, a.data.subarray(s * row, (s + m) * row), [m, ...a.dims.slice(1)]);
    const r = await session.run({ [session.inputNames[0]]: x });
    const y = r[session.outputNames[0]];
    parts.push(y.data);
    outDims = y.dims.slice(1);
    outType = y.type;
  }
  const total = parts.reduce((k, p) => k + p.length, 0);
  const data = new parts[0].constructor(total);
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  writeNpy(out, outType, [n, ...outDims], data);
}

main().catch((e) => {
  console.error(`ort_chunks.js: ${e.message || e}`);
  process.exit(1);
});
