import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export function machine() { return {}; }
export async function writeReport(dir: string, name: string, data: unknown): Promise<string> { const f = join(dir, `${name}.json`); writeFileSync(f, JSON.stringify(data)); return f; }
