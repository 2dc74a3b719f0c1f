/**
 * The development token: what `docker compose up` uses when no API_TOKENS is configured, so a
 * fresh clone starts without editing anything (docker-compose.yml repeats it; a deploy test keeps
 * the two equal). It is published here, so anyone can use it: the API accepts it only where
 * BDV_DEV_TOKEN=1 says the setup is a development one, and says so loudly at start-up.
 */
export const DEV_API_TOKEN = 'bdv-dev-token-insecure-local-only';

/**
 * The example tokens of .env.example's history and of k8s/base/config.yaml's example Secret: a
 * deployment that kept them runs on a published token, so the API refuses them outright (k8s
 * needs a real Secret).
 */
export const PLACEHOLDER_TOKENS: readonly string[] = [
  'change-me-long-random-token',
  'replace-with-a-long-random-token',
];

export interface TokenVerdict {
  /** Why the API must not start (names the variable, never a real token). */
  problem?: string;
  /** What the start-up log must warn about. */
  warning?: string;
}

/** Judges the configured tokens: placeholders never, the development token only in a dev setup. */
export function judgeTokens(tokens: readonly string[], devSetup: boolean): TokenVerdict {
  const placeholder = tokens.find((t) => PLACEHOLDER_TOKENS.includes(t));
  if (placeholder)
    return {
      problem: `API_TOKENS: holds the example token "${placeholder}"; set a long random one (openssl rand -hex 24)`,
    };
  if (!tokens.includes(DEV_API_TOKEN)) return {};
  if (!devSetup)
    return {
      problem:
        'API_TOKENS: holds the development token, which is public; set a long random token (openssl rand -hex 24), or BDV_DEV_TOKEN=1 for a development setup',
    };
  return {
    warning: `using the DEVELOPMENT token "${DEV_API_TOKEN}" (the default of docker-compose.yml): anyone who knows it can use this API; set API_TOKENS (and BDV_DEV_TOKEN=0) for production`,
  };
}
