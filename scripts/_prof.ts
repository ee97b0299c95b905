import fs from 'node:fs';
import { createResourceValidator } from '../src/validation';
const stage = (process.env.STAGE ?? 'compiled') as 'compiled';
const b = createResourceValidator({ lenientUnknownProfiles: false, structuralStage: stage });
const r = JSON.parse(fs.readFileSync('examples/mtm/medication-statement.json', 'utf8'));
const rate = (v: any) => { const t = process.hrtime.bigint(); for (let i = 0; i < 5000; i++) v.validate(r); return 5000 / (Number(process.hrtime.bigint() - t) / 1e9); };
for (let i = 0; i < 4; i++) console.log(stage, rate(b).toFixed(0));
