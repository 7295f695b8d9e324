import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  BREAK,
  GraphQLError,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  Kind,
  TypeInfo,
  validate,
  visit,
  valueFromASTUntyped,
  visitWithTypeInfo,
  type ArgumentNode,
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type ValueNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { findLoneSurrogate, jsonDeeperThan, LONE_SURROGATE, MAX_JSON_DEPTH } from '../domain/json-input';
import { InvalidInputError } from '../domain/domain-error';
import { DEFAULT_PAGE_SIZE, pageSize } from '../domain/pagination';

/**
 * Limits on what one GraphQL request may ask for (docs/guarantees.md, "GraphQL and ingest
 * limits"), built on graphql-armor:
 * - depth ≤ {@link MAX_QUERY_DEPTH}, not counting introspection (`__schema`, `__type` and what is below
 *   them), so standard introspection queries work;
 * - a cost limit ({@link MAX_QUERY_COST}, graphql-armor's cost model: objects 2, scalars 1, ×1.5 per
 *   level, a connection's cost × its `first`), with `first` read from the variables and the default
 *   page size (50) counted when `first` is absent — so a page of 500 messages with every field passes
 *   (≈ 74,000), 50 profiles × their groups × 50 members passes (≈ 164,000), and a page of pages
 *   (500 profiles × their groups × 500 members) does not;
 * - at most {@link MAX_ALIASES} aliases and {@link MAX_DIRECTIVES} directives;
 * - at most {@link MAX_TOKENS} tokens (graphql-js's parser limit);
 * - JSON arguments nest at most {@link MAX_JSON_DEPTH} levels, and no string argument holds a lone
 *   surrogate (BAD_USER_INPUT): what MariaDB can store, and ids that stay distinct.
 *
 * Every violation is answered HTTP 400, before anything runs, with a message that names the limit and
 * `extensions.code = "GRAPHQL_VALIDATION_FAILED"` (`GRAPHQL_PARSE_FAILED` for the token limit).
 * `first` outside 1–500 — written in the document, given as a variable or as a variable's default — is
 * BAD_USER_INPUT (400, the message of pagination.ts) on every field that takes `first`, checked before
 * the cost: a document that asks for too large a page is told so, not that it costs too much. The
 * request body is capped at 500 KB like every route (413).
 */
export const MAX_QUERY_DEPTH = 12;
export const MAX_QUERY_COST = 250_000;
export const MAX_ALIASES = 50;
export const MAX_DIRECTIVES = 50;
export const MAX_TOKENS = 5_000;

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

const off = { enabled: false } as const;

/** The one graphql-armor validation rule enabled in `config` (the others off). */
function armorRule(config: ConstructorParameters<typeof ApolloArmor>[0]): ValidationRule {
  const { validationRules } = new ApolloArmor({
    blockFieldSuggestion: off, // the schema is public (introspection is on): suggestions hide nothing
    maxTokens: off,
    costLimit: off,
    maxAliases: off,
    maxDirectives: off,
    maxDepth: off,
    ...config,
  }).protect();
  if (validationRules.length !== 1) throw new Error('expected exactly one graphql-armor rule');
  return validationRules[0] as ValidationRule;
}

/** `node` without introspection fields (and whatever they select). */
function withoutIntrospection<T extends ASTNode>(node: T): T {
  return visit(node, {
    Field: (field) => (INTROSPECTION_ROOTS.has(field.name.value) ? null : undefined),
  });
}

/** armor prefixes its messages with "Syntax Error: " although the query parsed; only the limit is said. */
function limitMessage(message: string): string {
  return message.replace(/^Syntax Error: /, '');
}

type OperationVisitor = { OperationDefinition?: { enter?: (...args: unknown[]) => unknown } };

/**
 * Runs a graphql-armor rule (they measure whole operations, from `OperationDefinition`) on operations
 * and fragments stripped of introspection fields — armor itself only skips `__schema`; introspection
 * is never limited, so `__type` is skipped too — and reports its errors without the misleading
 * "Syntax Error" prefix.
 */
function measuringWithoutIntrospection(rule: ValidationRule): ValidationRule {
  return (context: ValidationContext) => {
    const view = Object.create(context, {
      getFragment: {
        value: (name: string) => {
          const fragment = context.getFragment(name);
          return fragment && withoutIntrospection(fragment);
        },
      },
      reportError: {
        value: (error: GraphQLError) =>
          context.reportError(new GraphQLError(limitMessage(error.message), { extensions: error.extensions })),
      },
    }) as ValidationContext;
    const inner = rule(view) as OperationVisitor;
    return {
      OperationDefinition: {
        enter(operation) {
          inner.OperationDefinition?.enter?.call(inner, withoutIntrospection(operation));
        },
      },
    };
  };
}

/** The executed operation and the fragments (a document may hold several operations). */
function executed(document: DocumentNode, operationName: string | undefined): DocumentNode {
  const definitions = document.definitions.filter(
    (d) =>
      d.kind === Kind.FRAGMENT_DEFINITION ||
      (d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName)),
  );
  return { ...document, definitions };
}

/** What is wrong with one input value of `type`: a JSON value too deep, or a string that is not Unicode. */
function inputProblem(type: GraphQLInputType, value: unknown, where: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (isNonNullType(type)) return inputProblem(type.ofType, value, where);
  if (isListType(type)) {
    const items = Array.isArray(value) ? value : [value];
    for (const [i, item] of items.entries()) {
      const problem = inputProblem(type.ofType, item, `${where}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object' || Array.isArray(value)) return undefined; // graphql-js refuses it itself
    for (const field of Object.values(type.getFields())) {
      const problem = inputProblem(
        field.type,
        (value as Record<string, unknown>)[field.name],
        `${where}.${field.name}`,
      );
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isScalarType(type)) return undefined;
  if (type.name === 'JSON' || type.name === 'JSONObject') {
    if (jsonDeeperThan(value, MAX_JSON_DEPTH)) {
      return `${where} nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`;
    }
    if (findLoneSurrogate(value) !== undefined) {
      return `${where} holds a string that is not valid Unicode (a lone surrogate)`;
    }
  } else if (typeof value === 'string' && LONE_SURROGATE.test(value)) {
    return `${where} is not valid Unicode (a lone surrogate)`;
  }
  return undefined;
}

/** Whether a value written in the document takes a variable somewhere (`$v`, `[$v]`, `{a: $v}`). */
function takesVariable(value: ValueNode): boolean {
  if (value.kind === Kind.VARIABLE) return true;
  if (value.kind === Kind.LIST) return value.values.some(takesVariable);
  if (value.kind === Kind.OBJECT) return value.fields.some((f) => takesVariable(f.value));
  return false;
}

/** One argument of the executed operation whose value is checked with {@link inputProblem}. */
interface ArgumentCheck {
  type: GraphQLInputType;
  where: string;
  value: ValueNode;
  /** An argument without variables is checked once, when the document is first seen: its problem. */
  problem?: string;
}

/**
 * The arguments of the executed operation (fragments included) to check on every request, in document
 * order: those that take variables, and the first one without variables that has a problem (nothing
 * after it can be reported). Found once per document with `visitWithTypeInfo`.
 */
function argumentChecks(schema: GraphQLSchema, document: DocumentNode): ArgumentCheck[] {
  const typeInfo = new TypeInfo(schema);
  const checks: ArgumentCheck[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        const argument = typeInfo.getArgument();
        if (!argument) return undefined;
        const check: ArgumentCheck = { type: argument.type, where: `argument "${argument.name}"`, value: node.value };
        if (takesVariable(node.value)) {
          checks.push(check);
          return undefined;
        }
        const problem = inputProblem(check.type, valueFromASTUntyped(node.value), check.where);
        if (!problem) return undefined;
        checks.push({ ...check, problem });
        return BREAK;
      },
    }),
  );
  return checks;
}

/**
 * Every argument value of the executed operation (variables included) checked with {@link inputProblem}:
 * what every engine can store — MariaDB refuses JSON nested deeper than 32 levels or holding a lone
 * surrogate, and a lone surrogate in an id would be stored as U+FFFD, merging two ids into one.
 */
function argumentProblem(checks: ArgumentCheck[], variables: Record<string, unknown>): string | undefined {
  for (const check of checks) {
    if (check.problem) return check.problem;
    const { value } = check;
    const given = value.kind === Kind.VARIABLE ? variables[value.name.value] : valueFromASTUntyped(value, variables);
    const problem = inputProblem(check.type, given, check.where);
    if (problem) return problem;
  }
  return undefined;
}

/** The page size counted for a `first` given as a variable: its value, or the default page size. */
function countedPageSize(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : DEFAULT_PAGE_SIZE;
}

/**
 * The executed operation (and the fragments) with every `first` made a literal: the variable's value,
 * or the default page size when the field takes `first` and none was given. graphql-armor's cost model
 * only sees literals.
 */
function withLiteralPageSizes(
  schema: GraphQLSchema,
  operation: DocumentNode,
  variables: Record<string, unknown>,
): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  const literal = (value: number): ArgumentNode => ({
    kind: Kind.ARGUMENT,
    name: { kind: Kind.NAME, value: 'first' },
    value: { kind: Kind.INT, value: String(value) },
  });
  return visit(
    operation,
    visitWithTypeInfo(typeInfo, {
      Field: {
        leave(field: FieldNode): FieldNode | undefined {
          const definition = typeInfo.getFieldDef();
          if (!definition?.args.some((a) => a.name === 'first')) return undefined;
          const given = field.arguments?.find((a) => a.name.value === 'first');
          let size: number = DEFAULT_PAGE_SIZE;
          if (given?.value.kind === Kind.INT) return undefined;
          if (given?.value.kind === Kind.VARIABLE) size = countedPageSize(variables[given.value.name.value]);
          const others = (field.arguments ?? []).filter((a) => a.name.value !== 'first');
          return { ...field, arguments: [...others, literal(size)] };
        },
      },
    }),
  );
}

/** The variables that give a `first` argument of `operation` (the only values its cost depends on). */
function pageSizeVariables(schema: GraphQLSchema, operation: DocumentNode): string[] {
  const typeInfo = new TypeInfo(schema);
  const names = new Set<string>();
  visit(
    operation,
    visitWithTypeInfo(typeInfo, {
      Field(field) {
        if (!typeInfo.getFieldDef()?.args.some((a) => a.name === 'first')) return;
        const given = field.arguments?.find((a) => a.name.value === 'first');
        if (given?.value.kind === Kind.VARIABLE) names.add(given.value.name.value);
      },
    }),
  );
  return [...names];
}

/** The `first` arguments of `operation` (fragments included), as written: a literal or a variable. */
function pageSizeArguments(schema: GraphQLSchema, operation: DocumentNode): ValueNode[] {
  const typeInfo = new TypeInfo(schema);
  const values: ValueNode[] = [];
  visit(
    operation,
    visitWithTypeInfo(typeInfo, {
      Field(field) {
        if (!typeInfo.getFieldDef()?.args.some((a) => a.name === 'first')) return;
        const given = field.arguments?.find((a) => a.name.value === 'first');
        if (given) values.push(given.value);
      },
    }),
  );
  return values;
}

/**
 * The first `first` outside 1–500 (pagination.ts's message), literal or from the variables. A value that
 * is no integer at all is left to graphql-js, which refuses it while coercing the variables.
 */
function pageSizeProblem(values: ValueNode[], variables: Record<string, unknown>): string | undefined {
  for (const value of values) {
    const given = value.kind === Kind.VARIABLE ? variables[value.name.value] : valueFromASTUntyped(value);
    if (typeof given !== 'number' || !Number.isInteger(given)) continue;
    try {
      pageSize(given);
    } catch (err) {
      if (err instanceof InvalidInputError) return err.message;
      throw err;
    }
  }
  return undefined;
}

/** The default values the executed operation declares for its variables (`query($n: Int = 10)`). */
function variableDefaults(operation: DocumentNode): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const definition of operation.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      if (variable.defaultValue) defaults[variable.variable.name.value] = valueFromASTUntyped(variable.defaultValue);
    }
  }
  return defaults;
}

/** How many cost verdicts (one per set of page sizes) are kept per operation. */
const COST_VERDICTS_KEPT = 64;

/**
 * What the limits need to know about one operation of one parsed document, found once: Apollo keeps
 * parsed documents (its document store), so the same query text comes back as the same `DocumentNode`.
 */
interface OperationLimits {
  schema: GraphQLSchema;
  checks: ArgumentCheck[];
  /** The `first` arguments, literal or variable, checked before the cost. */
  pageSizes: ValueNode[];
  /** The variables' default values: what an absent variable stands for. */
  defaults: Record<string, unknown>;
  /** The executed operation and its fragments, introspection left out: what the cost is measured on. */
  measured: DocumentNode;
  pageSizeVariables: string[];
  /** The cost error's message (null: within the limit), by the page sizes the variables give. */
  costVerdicts: Map<string, string | null>;
}

export interface GraphQLLimits {
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin[];
  /** graphql-js's own token limit, applied while parsing (a violation is GRAPHQL_PARSE_FAILED, 400). */
  parseOptions: { maxTokens: number };
}

/** The validation rules, plugins and parse options to give `new ApolloServer({...})`. */
export function graphqlLimits(): GraphQLLimits {
  const depth = armorRule({ maxDepth: { n: MAX_QUERY_DEPTH, ignoreIntrospection: true } });
  const aliases = armorRule({ maxAliases: { n: MAX_ALIASES } });
  const directives = armorRule({ maxDirectives: { n: MAX_DIRECTIVES } });
  const cost = armorRule({ costLimit: { maxCost: MAX_QUERY_COST, ignoreIntrospection: true } });

  const analysed = new WeakMap<DocumentNode, Map<string | undefined, OperationLimits>>();
  const limitsOf = (schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined) => {
    let operations = analysed.get(document);
    if (!operations) analysed.set(document, (operations = new Map()));
    let found = operations.get(operationName);
    if (!found || found.schema !== schema) {
      const operation = executed(document, operationName);
      const measured = withoutIntrospection(operation);
      found = {
        schema,
        checks: argumentChecks(schema, operation),
        pageSizes: pageSizeArguments(schema, operation),
        defaults: variableDefaults(operation),
        measured,
        pageSizeVariables: pageSizeVariables(schema, measured),
        costVerdicts: new Map(),
      };
      operations.set(operationName, found);
    }
    return found;
  };

  /** The cost error's message for these variables (null: within the limit), measured once per page sizes. */
  const costProblem = (limits: OperationLimits, variables: Record<string, unknown>): string | null => {
    const key = limits.pageSizeVariables.map((name) => countedPageSize(variables[name])).join(',');
    let verdict = limits.costVerdicts.get(key);
    if (verdict === undefined) {
      const [error] = validate(limits.schema, withLiteralPageSizes(limits.schema, limits.measured, variables), [cost]);
      verdict = error ? limitMessage(error.message) : null;
      if (limits.costVerdicts.size >= COST_VERDICTS_KEPT) {
        limits.costVerdicts.delete(limits.costVerdicts.keys().next().value as string);
      }
      limits.costVerdicts.set(key, verdict);
    }
    return verdict;
  };

  // argument values and the cost need the variables (for `first`), which validation rules never see:
  // checked once the operation is resolved, before it runs (the cost on a copy with literal page sizes);
  // what depends on the document alone is worked out once per document and operation
  const costPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, schema, operationName }) {
          const limits = limitsOf(schema, document, operationName ?? undefined);
          // an absent variable stands for its default value: that is what the resolvers will get
          const variables = { ...limits.defaults, ...request.variables };
          const problem = pageSizeProblem(limits.pageSizes, variables) ?? argumentProblem(limits.checks, variables);
          if (problem) {
            throw new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
          }
          const tooCostly = costProblem(limits, variables);
          if (tooCostly) {
            throw new GraphQLError(tooCostly, {
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
            });
          }
        },
      };
    },
  };

  return {
    validationRules: [depth, aliases, directives].map(measuringWithoutIntrospection),
    plugins: [costPlugin],
    // graphql-armor's max-tokens plugin for Apollo turns every syntax error into a 500; graphql-js
    // counts tokens itself while parsing and fails like any syntax error (400)
    parseOptions: { maxTokens: MAX_TOKENS },
  };
}
