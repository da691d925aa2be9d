// isomorphic-git, loaded on first use. A local deploy reads and writes git's files itself and asks
// isomorphic-git only for what it leaves to it (packed refs, init, an object in no pack it knows),
// so most never load it: ~290 KB with pako and its helpers, that a cold deploy would otherwise
// compile and evaluate before its first line of work. Remote stores and branch listings load it
// for their first request.
type IsomorphicGit = (typeof import('isomorphic-git'))['default'];

let loading: Promise<IsomorphicGit> | undefined;

export function isomorphicGit(): Promise<IsomorphicGit> {
  // The package's CommonJS exports, whichever loader (Node's, a bundle's) wraps them.
  loading ??= import('isomorphic-git').then((m) => m.default);
  return loading;
}
