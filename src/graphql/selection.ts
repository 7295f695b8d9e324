import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * Whether a field named `name` is selected anywhere below the field being resolved — through fragments
 * and inline fragments, under any alias. `@skip`/`@include` are not looked at, so the answer may be yes
 * for a field that ends up skipped, never no for one that is selected. The answer depends on the
 * document alone, so it is worked out once per parsed document (Apollo keeps them).
 */
export function selectsBelow(name: string): (info: GraphQLResolveInfo) => boolean {
  const answers = new WeakMap<FieldNode, boolean>();
  return (info) => {
    let answer = answers.get(info.fieldNodes[0]);
    if (answer === undefined) {
      const seen = new Set<string>();
      const within = (set: SelectionSetNode | undefined): boolean =>
        !!set &&
        set.selections.some((selection) => {
          if (selection.kind === Kind.FIELD) return selection.name.value === name || within(selection.selectionSet);
          if (selection.kind === Kind.INLINE_FRAGMENT) return within(selection.selectionSet);
          const fragment = info.fragments[selection.name.value];
          if (!fragment || seen.has(fragment.name.value)) return false;
          seen.add(fragment.name.value);
          return within(fragment.selectionSet);
        });
      answer = info.fieldNodes.some((field) => within(field.selectionSet));
      answers.set(info.fieldNodes[0], answer);
    }
    return answer;
  };
}
