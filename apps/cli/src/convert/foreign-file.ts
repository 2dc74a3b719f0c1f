/** The refusals made over files that are not this command's (see `foreignFile`). */
const foreignProblems = new Set<string>();

/**
 * Marks a resume refusal as one over a file that is not this command's, or that somebody changed
 * since: its advice must not be --overwrite, which would replace that file. Marked where the text
 * is made, so that rewording a message cannot change the advice it gets.
 */
export function foreignFile(problem: string): string {
  foreignProblems.add(problem);
  return problem;
}

export function isForeignFile(problem: string): boolean {
  return foreignProblems.has(problem);
}
