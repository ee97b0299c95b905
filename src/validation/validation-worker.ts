/**
 * A validation worker thread: builds the pipeline once, warms it, then answers jobs. The pipeline
 * never throws on input (it reports its own failures as issues), so a job always gets its results.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ValidationPipeline } from './pipeline';
import type { JobDone, ValidationItem, ValidationJob, WorkerReady, WorkerSetup } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('validation-worker must run as a worker thread');

const pipeline = new ValidationPipeline(workerData as WorkerSetup);
pipeline.warmUp();

port.on('message', (job: ValidationJob) => {
  const items = JSON.parse(job.items) as ValidationItem[];
  const results = items.map((item) => pipeline.validate(item.resource, item.options));
  port.postMessage({ kind: 'done', id: job.id, results } satisfies JobDone);
});
port.postMessage({ kind: 'ready' } satisfies WorkerReady);
