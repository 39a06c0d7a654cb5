/**
 * Edit distance (optimal string alignment: insertions, deletions, substitutions and adjacent
 * transpositions each cost 1), so `group.di` is one edit away from `group.id`. Three rows of
 * `b.length + 1` numbers, however long `a` is.
 */
export function editDistance(a: string, b: string): number {
  const cols = b.length + 1;
  let before = new Array<number>(cols).fill(0);
  let previous = Array.from({ length: cols }, (_, j) => j);
  let current = new Array<number>(cols).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], before[j - 2] + 1);
      }
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[cols - 1];
}

/** How many edits still read as a typo rather than a different word. */
function typoBudget(word: string): number {
  if (word.length <= 4) return 1;
  return word.length <= 10 ? 2 : 3;
}

/**
 * The candidate closest to `word`, if it is close enough to be a likely typo. Candidates whose
 * length differs by more than the typo budget cannot be close enough and cost no comparison, so
 * a long word (a key made of junk) costs a length check per candidate.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const budget = typoBudget(word);
  const lowered = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > budget) continue;
    const distance = editDistance(lowered, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= budget ? best : undefined;
}

/** `; did you mean 'x'?` or nothing, ready to append to an error message. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : `; did you mean '${match}'?`;
}
