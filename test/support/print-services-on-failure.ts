import { ServiceProcess } from './service-process';

// A failed integration test prints what its service processes said: a timeout alone does not
// tell whether the service was stuck, crashed or never received the event.
const LINES = Number(process.env.MLOPS_FAILED_SERVICE_LINES ?? 80);

beforeEach((context) => {
  context.onTestFailed(() => {
    for (const service of ServiceProcess.started) {
      const tail = service.tail(LINES);
      if (tail.trim() !== '') console.error(`--- last lines of ${service.service} (${service.running ? 'running' : 'exited'}) ---\n${tail}`);
    }
  });
});
