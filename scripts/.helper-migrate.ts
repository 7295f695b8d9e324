import 'reflect-metadata';
import { openDatabase } from '../work/main/src/db/open';
(async () => { const db = await openDatabase(process.argv[2]); await db.dataSource.destroy(); })();
