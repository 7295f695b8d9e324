/**
 * The GraphQL IDE at `GET /graphql` (from a browser): GraphiQL from npm, bundled by scripts/build-console.ts into
 * dist/console/graphiql.js and graphiql.css — no CDN. It sends the admin key this tab signed in with at /console.
 */
import { currentKey } from './api';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import 'graphiql/graphiql.css';
import './graphiql-page.css';

const key = currentKey();

const status = document.getElementById('ide-key-status')!;
status.textContent = key
  ? 'Queries run with the admin key this tab signed in with.'
  : 'Not signed in: the schema is browsable, but queries need an admin key — sign in at the console first.';

const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  headers: key ? { authorization: `Bearer ${key}` } : {},
});

createRoot(document.getElementById('graphiql')!).render(
  createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: false, isHeadersEditorEnabled: false }),
);
