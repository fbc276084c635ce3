/** Exit codes of every command: 0 ok, 1 a request failed, 2 a usage error (bad flag, file, YAML). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake of the user's (flags, files, project YAML): exit code 2, with what to fix. */
export class UsageError extends Error {}

/** The platform answered, with an error status. */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** Nothing answered at the front door (or a request failed on the way). */
export class UnreachableError extends Error {}

export interface ClientOptions {
  /** The front door, e.g. http://127.0.0.1:8080 (embedded) or the nginx front door. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (the services' API_TOKEN). */
  token?: string;
}

const errorText = (body: unknown): string | undefined => {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; error?: unknown; error_code?: unknown };
    const message = typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : undefined;
    if (message) return typeof b.error_code === 'string' ? `${b.error_code}: ${message}` : message;
  }
  return typeof body === 'string' && body ? body.slice(0, 500) : undefined;
};

/** JSON over HTTP to the front door: one path per service (`/ingestion/...`, `/registry/...`). */
export class PlatformClient {
  readonly base: string;

  constructor(private readonly options: ClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>('POST', path, body, headers);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** The status and body whatever the status (for `mlops status`, where a 503 is an answer). */
  async probe(path: string): Promise<{ status: number; body: unknown }> {
    const response = await this.send('GET', path);
    return { status: response.status, body: await this.body(response) };
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.send(method, path, body, headers);
    const parsed = await this.body(response);
    if (response.ok) return parsed as T;
    const url = `${this.base}${path}`;
    const detail = errorText(parsed) ?? response.statusText;
    if (response.status === 401) {
      const fix = this.options.token ? 'the token was refused: check API_TOKEN (or --token) against the platform\'s API_TOKEN' : 'the platform requires a token: set API_TOKEN (or pass --token)';
      throw new ApiError(method, url, 401, parsed, `${method} ${url}: 401 ${detail}; ${fix}`);
    }
    if (response.status === 404 && parsed && typeof parsed === 'object' && (parsed as { error_code?: string }).error_code === 'ENDPOINT_NOT_FOUND') {
      throw new ApiError(method, url, 404, parsed, `${method} ${url}: 404 ${detail}; this platform has no such route (is --url the front door, and the platform up to date?)`);
    }
    throw new ApiError(method, url, response.status, parsed, `${method} ${url}: ${response.status} ${detail}`);
  }

  private async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const url = `${this.base}${path}`;
    const all: Record<string, string> = { accept: 'application/json', ...headers };
    if (body !== undefined) all['content-type'] = 'application/json';
    if (this.options.token) all.authorization = `Bearer ${this.options.token}`;
    try {
      return await fetch(url, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || cause?.code === 'EHOSTUNREACH') {
        throw new UnreachableError(
          `cannot reach ${this.base}: is the platform running? start it with \`npm start -- --serve\` (or pass --url / set MLOPS_URL to its front door)`,
        );
      }
      throw new UnreachableError(`${method} ${url} failed: ${cause?.message ?? (error as Error).message}`);
    }
  }

  private async body(response: Response): Promise<unknown> {
    const text = await response.text();
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
}
