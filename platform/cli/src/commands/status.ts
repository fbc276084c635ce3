import type { Context } from '../context';

/** The services behind the front door, each with its readiness probe. */
export const SERVICES = ['ingestion', 'feature-store', 'tracking', 'trainer', 'registry', 'serving', 'monitoring', 'loop'] as const;

interface ServiceStatus {
  service: string;
  ready: boolean;
  status: number;
  detail?: string;
}

/** `mlops status`: every service's /health/ready through the front door; exit 1 unless all are ready. */
export async function status(ctx: Context): Promise<number> {
  const services: ServiceStatus[] = await Promise.all(
    SERVICES.map(async (service) => {
      const { status, body } = await ctx.client.probe(`/${service}/health/ready`);
      const detail = status === 200 ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      return { service, ready: status === 200, status, detail };
    }),
  );
  const ready = services.every((s) => s.ready);
  ctx.result({ url: ctx.client.base, ready, services }, [
    ...services.map((s) => `${s.service.padEnd(14)} ${s.ready ? 'ready' : `NOT READY (${s.status}${s.detail ? `: ${s.detail.slice(0, 200)}` : ''})`}`),
    ready ? `all ${services.length} services ready at ${ctx.client.base}` : `${services.filter((s) => !s.ready).length} of ${services.length} services not ready at ${ctx.client.base}`,
  ]);
  return ready ? 0 : 1;
}
