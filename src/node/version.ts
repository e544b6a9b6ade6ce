import packageJson from '../../package.json' with { type: 'json' };

/** The weft version every node reports in /health, Ping and metrics. */
export const weftVersion: string = packageJson.version;
