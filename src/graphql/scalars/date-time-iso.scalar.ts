import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { isoTime } from '../../db/dialect';

/**
 * graphql-scalars' `DateTimeISO` — the same name, description and input parsing and validation, so the
 * schema and what it accepts are unchanged — with a cheaper serializer for the valid `Date`s the
 * resolvers return (the same `toISOString()` text). Anything else (strings, numbers, invalid dates) is
 * serialized, or refused, by graphql-scalars itself.
 */
export const DateTimeISO = new GraphQLScalarType({
  ...GraphQLDateTimeISO.toConfig(),
  serialize(value: unknown): string {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return isoTime(value);
    return GraphQLDateTimeISO.serialize(value) as string;
  },
});
