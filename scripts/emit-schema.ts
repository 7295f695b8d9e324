import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { printSDL } from '../src/graphql/build-schema';

/** `npm run schema:emit`: writes the SDL of the code's schema to schema/schema.graphql. */
const target = path.resolve(__dirname, '../schema/schema.graphql');
fs.writeFileSync(target, printSDL());
process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
