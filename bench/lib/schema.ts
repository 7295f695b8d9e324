/**
 * The ceilings' copy of Pigeon's event log: the columns, unique key and indexes of `inbound_events`
 * as migrations/1764400003000-create-inbound-events.ts creates them and
 * migrations/1764600000000-no-pad-binary-keys.ts and migrations/1765000003000-event-list-indexes.ts leave them
 * (the id columns NO PAD binary on MariaDB, the user and name indexes holding a page of the events list;
 * read back with SHOW CREATE TABLE on MariaDB 10.11 and from sqlite_master on SQLite). `scenarios/pigeon.ts` compares this copy with the table
 * Pigeon's migrations build in the same run and warns when they drift.
 */

export const MYSQL_EVENT_LOG = `CREATE TABLE inbound_events (
  id bigint(20) NOT NULL AUTO_INCREMENT,
  workspace_id int(11) NOT NULL,
  message_id varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
  type varchar(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
  name varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin DEFAULT NULL,
  user_id varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin DEFAULT NULL,
  anonymous_id varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin DEFAULT NULL,
  status varchar(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
  payload longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL CHECK (json_valid(payload)),
  timestamp datetime(3) NOT NULL,
  received_at datetime(3) NOT NULL,
  message_ref varchar(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin DEFAULT NULL,
  list_message_id varchar(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin GENERATED ALWAYS AS (case when char_length(message_id) <= 200 then message_id end) VIRTUAL,
  PRIMARY KEY (id),
  UNIQUE KEY UQ_inbound_events_workspace_message (workspace_id, message_id),
  KEY IDX_inbound_events_ws_received (workspace_id, received_at, id),
  KEY IDX_inbound_events_ws_name_received (workspace_id, name, received_at, id, type, status, timestamp, user_id, list_message_id),
  KEY IDX_inbound_events_ws_status_received (workspace_id, status, received_at, id),
  KEY IDX_inbound_events_ws_user_received (workspace_id, user_id, received_at, id, type, status, timestamp, name, list_message_id),
  KEY IDX_inbound_events_ws_type_received (workspace_id, type, received_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

export const SQLITE_EVENT_LOG = [
  `CREATE TABLE "inbound_events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "workspace_id" int NOT NULL,
    "message_id" varchar(255) NOT NULL, "type" varchar(16) NOT NULL, "name" varchar(255), "user_id" varchar(255),
    "anonymous_id" varchar(255), "status" varchar(16) NOT NULL, "payload" json NOT NULL,
    "timestamp" datetime(3) NOT NULL, "received_at" datetime(3) NOT NULL, "message_ref" varchar(36),
    "list_message_id" TEXT GENERATED ALWAYS AS (CASE WHEN length(message_id) <= 200 THEN message_id END) VIRTUAL,
    CONSTRAINT "UQ_inbound_events_workspace_message" UNIQUE ("workspace_id", "message_id"))`,
  `CREATE INDEX "IDX_inbound_events_ws_received" ON "inbound_events" ("workspace_id", "received_at", "id")`,
  `CREATE INDEX "IDX_inbound_events_ws_name_received" ON "inbound_events" ("workspace_id", "name", "received_at", "id", "type", "status", "timestamp", "user_id", "list_message_id")`,
  `CREATE INDEX "IDX_inbound_events_ws_status_received" ON "inbound_events" ("workspace_id", "status", "received_at", "id")`,
  `CREATE INDEX "IDX_inbound_events_ws_user_received" ON "inbound_events" ("workspace_id", "user_id", "received_at", "id", "type", "status", "timestamp", "name", "list_message_id")`,
  `CREATE INDEX "IDX_inbound_events_ws_type_received" ON "inbound_events" ("workspace_id", "type", "received_at", "id")`,
];

/** Column names and index definitions of a MySQL `SHOW CREATE TABLE`, for a drift check. */
export function shapeOf(createTable: string): string[] {
  return createTable
    .split('\n')
    .map((l) => l.trim().replace(/`/g, '').replace(/,$/, ''))
    .filter((l) => /^(PRIMARY KEY|UNIQUE KEY|KEY|[a-z_]+ )/.test(l) && !l.startsWith('CREATE'))
    .map((l) =>
      l
        .replace(/\s+/g, ' ')
        .replace(/\(\s*/g, '(')
        .replace(/\s*,\s*/g, ','),
    )
    .map((l) => l.replace(/ CHECK \(.*$/, ''))
    .sort();
}
