// Reference runner: executes an ONNX model with onnxruntime-node on one thread and writes each graph
// output to OUTDIR/output_K.npy. Usage: node ort_run.js MODEL.onnx OUTDIR IN0.npy [IN1.npy ...]
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { readNpy, writeNpy } = require('./npy.js');

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 2) {
    console.error('usage: node ort_run.js MODEL.onnx OUTDIR IN0.npy [IN1.npy ...]');
    process.exit(2);
  }
  const [model, outdir, ...inputs] = args;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const names = session.inputNames;
  if (inputs.length !== names.length) {
    throw new Error(`model has ${names.length} inputs (${names.join(', ')}), got ${inputs.length} files`);
  }
  const feeds = {};
  names.forEach((name, i) => {
    const a = readNpy(inputs[i]);
    feeds[name] = new ort.Tensor(a.type, a.data, a.dims);
  });
  const reps = Number(process.env.ORT_RUN_REPEAT || '1');
  let results;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) results = await session.run(feeds);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
  fs.mkdirSync(outdir, { recursive: true });
  session.outputNames.forEach((name, k) => {
    const t = results[name];
    writeNpy(path.join(outdir, `output_${k}.npy`), t.type, t.dims, t.data);
  });
  if (process.env.ORT_RUN_REPEAT) console.log(`ort run: ${ms.toFixed(3)} ms per inference (${reps} runs)`);
}

main().catch((e) => {
  console.error(`ort_run.js: ${e.message || e}`);
  process.exit(1);
});
